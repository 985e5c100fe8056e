import { newError } from '../errors/index.js';
import type { Descriptor, ExpectedContent } from './descriptor.js';
import type { ImageIndex, Manifest } from './manifest.js';
import { isConfigMediaType, isIndexMediaType, isLayerMediaType, isManifestMediaType, isSchema1MediaType, MEDIA_TYPES } from './media-types.js';
import {
  checkDescriptor,
  checkExpected,
  fieldError,
  fieldPath,
  type JsonObject,
  optionalMediaType,
  optionalStringMap,
  type ParseContext,
  readJsonObject,
  resolveMaxSize,
  show,
} from './parse-fields.js';

/**
 * The largest manifest or index accepted, in bytes: 4 MiB, containerd's limit. It is checked before the body is
 * decoded, so a hostile registry cannot make us parse an unbounded document.
 */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

/** Options of {@link parseManifest}, {@link parseIndex} and {@link parseManifestOrIndex}. */
export interface ParseManifestOptions {
  /**
   * The descriptor the bytes were fetched through. Its media type must be a manifest or index type of the kind
   * being parsed, the body's `mediaType` (when set) must equal it, a body without `mediaType` must have the shape
   * it announces, and its `size` (when set) must equal the byte length. Default: none, the body speaks for itself.
   */
  expected?: ExpectedContent;
  /** The size cap in bytes, checked before decoding. Default {@link MAX_MANIFEST_SIZE}. */
  maxSize?: number;
  /**
   * Refuse media types containerkit cannot run where an image needs a specific one: a Docker manifest's config,
   * and every layer of an image (as opposed to an artifact). Set `false` when only storing or copying content,
   * which the OCI spec says must not fail on unknown types. Default `true`.
   */
  strictMediaTypes?: boolean;
}

/** The result of {@link parseManifestOrIndex}: which kind the body is, its effective media type, and the value. */
export type ParsedManifestOrIndex = { kind: 'manifest'; mediaType: string; manifest: Manifest } | { kind: 'index'; mediaType: string; index: ImageIndex };

type Kind = 'manifest' | 'index';

const SCHEMA1_MESSAGE =
  'Docker image manifest schema 1 is not supported (Docker deprecated it); ' +
  're-push the image with a current client (docker, buildah, skopeo, crane) to get a schema 2 or OCI manifest';

function kindOf(mediaType: string): Kind | undefined {
  if (isManifestMediaType(mediaType)) return 'manifest';
  if (isIndexMediaType(mediaType)) return 'index';
  return undefined;
}

// A body without `mediaType` is told apart by its fields. Both or neither is ambiguous (undefined): the OCI spec
// added `mediaType` because a document readable as either kind let one digest mean two things (CVE-2021-41190).
function shapeOf(obj: JsonObject): Kind | undefined {
  const listsManifests = obj.manifests !== undefined;
  const hasImageParts = obj.config !== undefined || obj.layers !== undefined;
  if (listsManifests === hasImageParts) return undefined;
  return listsManifests ? 'index' : 'manifest';
}

const WHAT: Record<Kind | 'either', string> = { manifest: 'image manifest', index: 'image index', either: 'manifest or index' };
const A_KIND: Record<Kind | 'either', string> = { manifest: 'a manifest', index: 'an index', either: 'a manifest or index' };

/** The result of {@link readDocument}: the decoded body, its kind and effective media type. */
interface Document {
  obj: JsonObject;
  kind: Kind;
  mediaType: string;
  strict: boolean;
  ctx: ParseContext;
}

/**
 * Decodes the body and decides whether it is a manifest or an index, checking the body's `mediaType`, its shape
 * and the descriptor against each other and against the kind the caller wants. See {@link parseManifestOrIndex}.
 */
function readDocument(wanted: Kind | 'either', input: Uint8Array | string, options: ParseManifestOptions): Document {
  const maxSize = resolveMaxSize(options.maxSize, MAX_MANIFEST_SIZE);
  const expected = checkExpected(options.expected);
  const strict = options.strictMediaTypes ?? true;
  if (typeof strict !== 'boolean') {
    throw newError('ERR_INVALID_ARGUMENT', `options.strictMediaTypes must be a boolean, got ${show(strict)}`);
  }
  const ctx: ParseContext = { what: WHAT[wanted], nullable: false };
  const accepts = (kind: Kind | undefined): kind is Kind => kind !== undefined && (wanted === 'either' || kind === wanted);
  const unsupported = (field: string, mediaType: string) =>
    fieldError(ctx, field, `${show(mediaType)} is not ${A_KIND[wanted]} media type`, 'ERR_UNSUPPORTED_MEDIA_TYPE');

  // The descriptor is checked first: a schema 1 or foreign type is refused without reading the body.
  let expectedKind: Kind | undefined;
  if (expected !== undefined) {
    if (isSchema1MediaType(expected.mediaType)) throw newError('ERR_SCHEMA1_UNSUPPORTED', SCHEMA1_MESSAGE);
    expectedKind = kindOf(expected.mediaType);
    if (!accepts(expectedKind)) throw unsupported('expected.mediaType', expected.mediaType);
  }

  const obj = readJsonObject(ctx, input, maxSize, expected?.size);
  if (obj.schemaVersion === 1 || (typeof obj.mediaType === 'string' && isSchema1MediaType(obj.mediaType))) {
    throw newError('ERR_SCHEMA1_UNSUPPORTED', SCHEMA1_MESSAGE);
  }
  if (obj.schemaVersion !== 2) throw fieldError(ctx, 'schemaVersion', `must be 2, got ${show(obj.schemaVersion)}`);

  const bodyType = optionalMediaType(ctx, obj, 'mediaType', '');
  const shape = shapeOf(obj);
  let kind: Kind;
  if (bodyType !== undefined) {
    if (expected !== undefined && bodyType !== expected.mediaType) {
      const message = `the body says ${show(bodyType)} but its descriptor says ${show(expected.mediaType)}`;
      throw fieldError(ctx, 'mediaType', message, 'ERR_MEDIA_TYPE_MISMATCH');
    }
    const bodyKind = kindOf(bodyType);
    if (!accepts(bodyKind)) throw unsupported('mediaType', bodyType);
    kind = bodyKind;
  } else if (expected !== undefined && expectedKind !== undefined) {
    if (shape !== undefined && shape !== expectedKind) {
      const message = `the body has no mediaType and the fields of ${A_KIND[shape]}, but its descriptor says ${show(expected.mediaType)}`;
      throw fieldError(ctx, '', message, 'ERR_MEDIA_TYPE_MISMATCH');
    }
    kind = expectedKind;
  } else {
    if (shape === undefined) {
      throw fieldError(ctx, '', 'without mediaType a body needs manifests (index) or config and layers (manifest), not both or neither');
    }
    if (!accepts(shape)) {
      throw fieldError(ctx, shape === 'index' ? 'manifests' : 'config', `the body has no mediaType and looks like ${A_KIND[shape]}`);
    }
    kind = shape;
  }
  // Even with a mediaType, refuse the fields of the other kind (the ambiguity guard, as containerd does).
  if (kind === 'manifest' && obj.manifests !== undefined) throw fieldError(ctx, 'manifests', 'must not be present in a manifest');
  if (kind === 'index' && obj.config !== undefined) throw fieldError(ctx, 'config', 'must not be present in an index');
  if (kind === 'index' && obj.layers !== undefined) throw fieldError(ctx, 'layers', 'must not be present in an index');

  const mediaType = bodyType ?? expected?.mediaType ?? (kind === 'manifest' ? MEDIA_TYPES.OCI_MANIFEST : MEDIA_TYPES.OCI_INDEX);
  return { obj, kind, mediaType, strict, ctx: { what: WHAT[kind], nullable: false } };
}

function checkCommon(ctx: ParseContext, obj: JsonObject): void {
  optionalMediaType(ctx, obj, 'artifactType', '');
  if (obj.subject !== undefined) checkDescriptor(ctx, obj.subject, 'subject');
  optionalStringMap(ctx, obj, 'annotations', '');
}

function checkDescriptorList(ctx: ParseContext, obj: JsonObject, key: string): Descriptor[] {
  const list = obj[key];
  if (list === undefined) throw fieldError(ctx, key, 'is required');
  if (!Array.isArray(list)) throw fieldError(ctx, key, `must be an array of descriptors, got ${show(list)}`);
  return list.map((item, i) => checkDescriptor(ctx, item, fieldPath(key, i)));
}

/*
 * Which media types a manifest may carry (the deliberate rule):
 * - A Docker schema 2 manifest is always an image: its config must be an image config type and every layer a
 *   known layer type (OCI or Docker; containerd accepts the mix).
 * - An OCI manifest is an artifact when it sets `artifactType` or its config is not an image config type
 *   (Helm charts, signatures, SBOMs…). Artifacts' config and layers may have any well-formed media type.
 * - Otherwise it is an image, and every layer must be a known layer type, because an unpacker cannot apply
 *   anything else.
 * - An OCI manifest whose config is the empty descriptor must set `artifactType` (an OCI spec MUST).
 * With strictMediaTypes false only the last rule and the syntax of media types are enforced.
 */
function checkManifest(ctx: ParseContext, obj: JsonObject, mediaType: string, strict: boolean): Manifest {
  if (obj.config === undefined) throw fieldError(ctx, 'config', 'is required');
  const config = checkDescriptor(ctx, obj.config, 'config');
  const layers = checkDescriptorList(ctx, obj, 'layers');
  checkCommon(ctx, obj);
  const artifactType = obj.artifactType;
  if (config.mediaType === MEDIA_TYPES.OCI_EMPTY && artifactType === undefined) {
    throw fieldError(ctx, 'artifactType', 'is required when config is the empty descriptor');
  }
  if (!strict) return obj as unknown as Manifest;
  const docker = mediaType === MEDIA_TYPES.DOCKER_MANIFEST;
  if (docker && !isConfigMediaType(config.mediaType)) {
    const message = `${show(config.mediaType)} is not an image config media type`;
    throw fieldError(ctx, 'config.mediaType', message, 'ERR_UNSUPPORTED_MEDIA_TYPE');
  }
  const image = docker || (artifactType === undefined && isConfigMediaType(config.mediaType));
  if (image) {
    layers.forEach((layer, i) => {
      if (!isLayerMediaType(layer.mediaType)) {
        const message = `${show(layer.mediaType)} is not a layer media type containerkit can unpack`;
        throw fieldError(ctx, `layers[${i}].mediaType`, message, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      }
    });
  }
  return obj as unknown as Manifest;
}

// Index entries may have any well-formed media type: the OCI spec forbids failing on unknown ones there, and
// real indexes list attestations, cache configs and nested indexes next to platform manifests.
function checkIndex(ctx: ParseContext, obj: JsonObject): ImageIndex {
  checkDescriptorList(ctx, obj, 'manifests');
  checkCommon(ctx, obj);
  return obj as unknown as ImageIndex;
}

/**
 * Parses and strictly validates an image manifest (OCI or Docker schema 2), returning the decoded JSON typed
 * (extra fields are kept: the bytes are canonical). Errors name the offending field path, e.g.
 * `layers[2].mediaType`.
 *
 * @param input the body as bytes (Buffer, Uint8Array) or a string.
 * @throws ERR_INVALID_ARGUMENT for bad options or input type.
 * @throws ERR_MANIFEST_TOO_LARGE when the body exceeds `maxSize` (default 4 MiB), before decoding it.
 * @throws ERR_SIZE_MISMATCH when `expected.size` differs from the byte length.
 * @throws ERR_SCHEMA1_UNSUPPORTED for Docker schema 1 (by `schemaVersion` or media type).
 * @throws ERR_MEDIA_TYPE_MISMATCH when the body's `mediaType` or shape contradicts `expected.mediaType`.
 * @throws ERR_UNSUPPORTED_MEDIA_TYPE when the manifest's or `expected`'s media type is not a manifest type, or an
 *   image's config or layer has a type it cannot have (see `strictMediaTypes`).
 * @throws ERR_INVALID_DIGEST / ERR_UNSUPPORTED_DIGEST_ALGORITHM for a bad digest field.
 * @throws ERR_INVALID_MANIFEST for invalid UTF-8 or JSON, and for missing or mistyped fields.
 * @throws ERR_DUPLICATE_JSON_KEY when an object, at any depth, repeats a key (parsers disagree on which wins).
 */
export function parseManifest(input: Uint8Array | string, options: ParseManifestOptions = {}): Manifest {
  const doc = readDocument('manifest', input, options);
  return checkManifest(doc.ctx, doc.obj, doc.mediaType, doc.strict);
}

/**
 * Parses and strictly validates an image index (OCI index or Docker manifest list; also an OCI layout's
 * `index.json`). Entries may have any well-formed media type; `platform`, when present, needs string
 * `architecture` and `os`. Same options and errors as {@link parseManifest}.
 */
export function parseIndex(input: Uint8Array | string, options: ParseManifestOptions = {}): ImageIndex {
  const doc = readDocument('index', input, options);
  return checkIndex(doc.ctx, doc.obj);
}

/**
 * Parses a body that may be a manifest or an index, as returned when resolving a tag. The kind comes from the
 * body's `mediaType`, else from `expected.mediaType`, else from the body's fields (`manifests` for an index,
 * `config`/`layers` for a manifest); the three must agree. The result's `mediaType` is the body's, else the
 * descriptor's, else the OCI type for the kind. Same options and errors as {@link parseManifest}.
 */
export function parseManifestOrIndex(input: Uint8Array | string, options: ParseManifestOptions = {}): ParsedManifestOrIndex {
  const doc = readDocument('either', input, options);
  if (doc.kind === 'index') return { kind: 'index', mediaType: doc.mediaType, index: checkIndex(doc.ctx, doc.obj) };
  const manifest = checkManifest(doc.ctx, doc.obj, doc.mediaType, doc.strict);
  return { kind: 'manifest', mediaType: doc.mediaType, manifest };
}
