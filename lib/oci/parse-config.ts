import { newError } from '../errors/index.js';
import type { ExpectedContent } from './descriptor.js';
import type { ImageConfig } from './image-config.js';
import { isConfigMediaType } from './media-types.js';
import {
  checkDigest,
  checkExpected,
  expectObject,
  fieldError,
  fieldPath,
  has,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalObjectMap,
  optionalString,
  optionalStringArray,
  optionalStringMap,
  type ParseContext,
  readJsonObject,
  requireString,
  resolveMaxSize,
  show,
} from './parse-fields.js';
import { formatPlatform, normalizePlatform, type Platform } from './platform.js';

/**
 * The largest image config accepted, in bytes: 8 MiB. Configs grow with history and labels but real ones stay
 * well under 1 MiB; the cap is twice the manifest cap so that no legitimate image is refused while a hostile
 * registry still cannot make us decode an unbounded document. Checked before decoding.
 */
export const MAX_IMAGE_CONFIG_SIZE = 8 * 1024 * 1024;

/** Options of {@link parseImageConfig}. */
export interface ParseImageConfigOptions {
  /**
   * The config descriptor from the manifest: its media type must be an image config type (OCI or Docker) and its
   * `size` (when set) must equal the byte length. Default: none.
   */
  expected?: ExpectedContent;
  /** The size cap in bytes, checked before decoding. Default {@link MAX_IMAGE_CONFIG_SIZE}. */
  maxSize?: number;
  /**
   * The platform the manifest was selected for in an index (the index entry's `platform`). The config's `os` and
   * `architecture` must be that platform's, and its `variant` too when both name one (compared normalised:
   * `x86_64` is `amd64`, `arm64/v8` is `arm64`). Default: none, not checked.
   */
  platform?: Platform;
}

// An index entry that says one platform over a config that says another lets a tool pick an image by a platform
// it is not for; each side is what some tool trusts (containerd selects by the entry, docker reports the config).
function checkPlatform(ctx: ParseContext, obj: JsonObject, wanted: Platform): void {
  const variant = (value: unknown): string => (typeof value === 'string' ? value : '');
  const want = normalizePlatform({ os: wanted.os, architecture: wanted.architecture, variant: variant(wanted.variant) });
  const got = normalizePlatform({ os: obj.os as string, architecture: obj.architecture as string, variant: variant(obj.variant) });
  const bothVariants = variant(wanted.variant) !== '' && variant(obj.variant) !== '';
  let field: string | undefined;
  if (got.os !== want.os) field = 'os';
  else if (got.architecture !== want.architecture) field = 'architecture';
  else if (bothVariants && (got.variant ?? '') !== (want.variant ?? '')) field = 'variant';
  if (field === undefined) return;
  const [expected, actual] = [formatPlatform(want), formatPlatform(got)];
  throw newError('ERR_PLATFORM_MISMATCH', `invalid ${ctx.what}: ${field}: the config is for ${actual}, but its manifest was selected for ${expected}`, {
    details: { field, expected, actual },
  });
}

// Go's time.Time accepts RFC 3339 only, so this is what every Go-built tool would accept too.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function optionalTimestamp(ctx: ParseContext, obj: JsonObject, key: string, path: string): void {
  optionalString(ctx, obj, key, path);
  if (has(ctx, obj, key) && !RFC3339.test(obj[key] as string)) {
    throw fieldError(ctx, fieldPath(path, key), `${show(obj[key])} is not an RFC 3339 date-time`);
  }
}

function checkHealthcheck(ctx: ParseContext, value: unknown, path: string): void {
  const obj = expectObject(ctx, value, path);
  optionalStringArray(ctx, obj, 'Test', path);
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) optionalInteger(ctx, obj, key, path);
}

function checkRunConfig(ctx: ParseContext, value: unknown, path: string): void {
  const obj = expectObject(ctx, value, path);
  for (const key of ['User', 'WorkingDir', 'StopSignal']) optionalString(ctx, obj, key, path);
  for (const key of ['Env', 'Entrypoint', 'Cmd', 'Shell', 'OnBuild']) optionalStringArray(ctx, obj, key, path);
  optionalObjectMap(ctx, obj, 'ExposedPorts', path);
  optionalObjectMap(ctx, obj, 'Volumes', path);
  optionalStringMap(ctx, obj, 'Labels', path);
  optionalBoolean(ctx, obj, 'ArgsEscaped', path);
  if (has(ctx, obj, 'Healthcheck')) checkHealthcheck(ctx, obj.Healthcheck, fieldPath(path, 'Healthcheck'));
}

function checkRootfs(ctx: ParseContext, value: unknown): void {
  if (value === undefined || value === null) throw fieldError(ctx, 'rootfs', 'is required');
  const obj = expectObject(ctx, value, 'rootfs');
  if (obj.type !== 'layers') throw fieldError(ctx, 'rootfs.type', `must be "layers", got ${show(obj.type)}`);
  const diffIds = obj.diff_ids;
  if (diffIds === undefined || diffIds === null) throw fieldError(ctx, 'rootfs.diff_ids', 'is required');
  if (!Array.isArray(diffIds)) throw fieldError(ctx, 'rootfs.diff_ids', `must be an array of digests, got ${show(diffIds)}`);
  diffIds.forEach((id, i) => {
    checkDigest(ctx, id, `rootfs.diff_ids[${i}]`);
  });
}

function checkHistory(ctx: ParseContext, obj: JsonObject): void {
  if (!has(ctx, obj, 'history')) return;
  const history = obj.history;
  if (!Array.isArray(history)) throw fieldError(ctx, 'history', `must be an array, got ${show(history)}`);
  history.forEach((item, i) => {
    const path = `history[${i}]`;
    const entry = expectObject(ctx, item, path);
    optionalTimestamp(ctx, entry, 'created', path);
    for (const key of ['created_by', 'author', 'comment']) optionalString(ctx, entry, key, path);
    optionalBoolean(ctx, entry, 'empty_layer', path);
  });
}

/**
 * Parses and strictly validates an image configuration (OCI or Docker), returning the decoded JSON typed (extra
 * fields such as Docker's `container_config` are kept). `architecture` and `os` must be strings, `rootfs.type`
 * must be `layers` and every `rootfs.diff_ids` entry a valid digest; optional fields are type-checked (Env, Cmd,
 * Entrypoint string arrays, ExposedPorts and Volumes maps of objects, Labels a string map, dates RFC 3339…).
 * `null` is accepted for every optional field, because Docker writes it. Errors name the field path, e.g.
 * `config.Env[1]`.
 *
 * @param input the body as bytes (Buffer, Uint8Array) or a string.
 * @throws ERR_INVALID_ARGUMENT for bad options or input type.
 * @throws ERR_MANIFEST_TOO_LARGE when the body exceeds `maxSize` (default 8 MiB), before decoding it.
 * @throws ERR_SIZE_MISMATCH when `expected.size` differs from the byte length.
 * @throws ERR_UNSUPPORTED_MEDIA_TYPE when `expected.mediaType` is not an image config type.
 * @throws ERR_DUPLICATE_JSON_KEY when an object, at any depth, repeats a key.
 * @throws ERR_PLATFORM_MISMATCH when `os`, `architecture` or `variant` contradicts `options.platform`.
 * @throws ERR_INVALID_DIGEST / ERR_UNSUPPORTED_DIGEST_ALGORITHM for a bad diff ID.
 * @throws ERR_INVALID_MANIFEST for invalid UTF-8 or JSON, and for missing or mistyped fields.
 */
export function parseImageConfig(input: Uint8Array | string, options: ParseImageConfigOptions = {}): ImageConfig {
  const maxSize = resolveMaxSize(options.maxSize, MAX_IMAGE_CONFIG_SIZE);
  const expected = checkExpected(options.expected);
  const ctx: ParseContext = { what: 'image config', nullable: true };
  if (expected !== undefined && !isConfigMediaType(expected.mediaType)) {
    throw fieldError(ctx, 'expected.mediaType', `${show(expected.mediaType)} is not an image config media type`, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  }
  const obj = readJsonObject(ctx, input, maxSize, expected?.size);
  requireString(ctx, obj, 'architecture', '');
  requireString(ctx, obj, 'os', '');
  optionalTimestamp(ctx, obj, 'created', '');
  for (const key of ['author', 'os.version', 'variant']) optionalString(ctx, obj, key, '');
  optionalStringArray(ctx, obj, 'os.features', '');
  if (has(ctx, obj, 'config')) checkRunConfig(ctx, obj.config, 'config');
  checkRootfs(ctx, obj.rootfs);
  checkHistory(ctx, obj);
  if (options.platform !== undefined) checkPlatform(ctx, obj, options.platform);
  return obj as unknown as ImageConfig;
}
