import { isAbsolute } from 'node:path';
import { newError } from '../errors/index.js';
import type { BindContainerMount, BindPropagation, ContainerMount, TmpfsContainerMount } from './create-options.js';

// docker's command-line syntaxes for mounts and environment entries (docker/cli opts/mount.go, opts/volume.go,
// opts/env.go), turned into CreateOptions values, so a CLI on top of the engine accepts what `docker run` does.

const PROPAGATIONS: readonly string[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

function flagError(flag: string, value: string, message: string): never {
  throw newError('ERR_INVALID_ARGUMENT', `invalid ${flag} value ${JSON.stringify(value)}: ${message}`, { details: { flag, value } });
}

/** Splits one CSV record (docker's --mount is read with a CSV reader): commas separate, double quotes group. */
function splitCsv(value: string, flag: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) flagError(flag, value, 'unterminated quote');
  fields.push(field);
  return fields;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * A size as docker reads memory sizes (`units.RAMInBytes`): a number with an optional `k`, `m`, `g`, `t` or `p`
 * (powers of 1024, any case, optionally followed by `b` or `ib`). `undefined` when it is not one. Pure.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A boolean field's value; a key given without `=value` means true. */
function parseBool(text: string | undefined, flag: string, value: string, key: string): boolean {
  if (text === undefined) return true;
  const t = text.toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return flagError(flag, value, `${key} must be true or false, got "${text}"`);
}

/**
 * Parses docker's `--mount` syntax: comma-separated `key=value` fields, `type=bind|tmpfs` (docker's default,
 * `volume`, is not supported yet), `source`/`src`, `target`/`dst`/`destination`, `readonly`/`ro` (alone or
 * `=true|false|1|0`), `bind-propagation`, `tmpfs-size` (bytes or `64m`), `tmpfs-mode` (octal). A missing bind
 * source is refused when the container is created, as docker's `--mount` does. Pure.
 *
 * @example parseMountFlag('type=bind,src=/srv/data,dst=/data,ro') // { type: 'bind', source: '/srv/data', target: '/data', readonly: true }
 * @throws ERR_INVALID_ARGUMENT naming `--mount` (`details.flag`) for an unknown or repeated key, a missing
 *   target, a bind without an absolute source, a key of another mount type, or a bad value.
 */
export function parseMountFlag(value: string): ContainerMount {
  const flag = '--mount';
  if (typeof value !== 'string' || value.trim() === '') flagError(flag, String(value), 'it is empty');
  const fields = new Map<string, string | undefined>();
  for (const field of splitCsv(value, flag)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const alias = ({ src: 'source', dst: 'target', destination: 'target', ro: 'readonly' } as Record<string, string>)[key] ?? key;
    if (fields.has(alias)) flagError(flag, value, `${key} is given twice`);
    fields.set(alias, eq < 0 ? undefined : field.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  if (type !== 'bind' && type !== 'tmpfs') {
    flagError(flag, value, type === 'volume' ? 'volumes are not supported yet (use type=bind or type=tmpfs)' : `type "${type}" is not bind or tmpfs`);
  }
  const allowed = ['type', 'source', 'target', 'readonly', ...(type === 'bind' ? ['bind-propagation'] : ['tmpfs-size', 'tmpfs-mode'])];
  for (const key of fields.keys()) if (!allowed.includes(key)) flagError(flag, value, `unexpected key "${key}" for type=${type}`);
  for (const [key, v] of fields) if (key !== 'readonly' && (v === undefined || v === '')) flagError(flag, value, `${key} needs a value`);
  const target = fields.get('target');
  if (target === undefined) flagError(flag, value, 'target is required');
  if (!isAbsolute(target)) flagError(flag, value, `target "${target}" must be an absolute path`);
  const readonly = fields.has('readonly') && parseBool(fields.get('readonly'), flag, value, 'readonly');
  if (type === 'bind') {
    const source = fields.get('source');
    if (source === undefined) flagError(flag, value, 'source is required for type=bind');
    if (!isAbsolute(source)) flagError(flag, value, `source "${source}" must be an absolute path`);
    const mount: BindContainerMount = { type, source, target, readonly };
    const propagation = fields.get('bind-propagation');
    if (propagation !== undefined) {
      if (!PROPAGATIONS.includes(propagation)) flagError(flag, value, `bind-propagation must be one of ${PROPAGATIONS.join(', ')}`);
      mount.propagation = propagation as BindPropagation;
    }
    return mount;
  }
  if (fields.has('source')) flagError(flag, value, 'source is not allowed for type=tmpfs');
  const mount: TmpfsContainerMount = { type, target, readonly };
  const size = fields.get('tmpfs-size');
  if (size !== undefined) {
    const bytes = parseByteSize(size);
    if (bytes === undefined || bytes < 1) flagError(flag, value, `tmpfs-size "${size}" is not a size`);
    mount.size = bytes;
  }
  const mode = fields.get('tmpfs-mode');
  if (mode !== undefined) {
    if (!/^[0-7]{1,4}$/.test(mode)) flagError(flag, value, `tmpfs-mode "${mode}" is not an octal mode`);
    mount.mode = Number.parseInt(mode, 8);
  }
  return mount;
}

/**
 * Parses docker's `-v`/`--volume` bind syntax, `/host:/container[:options]`, options comma-separated: `ro`,
 * `rw` and a propagation mode (`z`/`Z`, SELinux relabels, are accepted and ignored). Like docker's `-v`, a
 * missing host path is created as a directory (`createSource`). Named and anonymous volumes are not supported
 * yet. Pure.
 *
 * @example parseVolumeFlag('/srv/data:/data:ro') // { type: 'bind', source: '/srv/data', target: '/data', readonly: true, createSource: true }
 * @throws ERR_INVALID_ARGUMENT naming `--volume` for a malformed value, a relative path, a volume name, or an
 *   unknown option.
 */
export function parseVolumeFlag(value: string): BindContainerMount {
  const flag = '--volume';
  if (typeof value !== 'string' || value === '') flagError(flag, String(value), 'it is empty');
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) {
    flagError(flag, value, parts.length === 1 ? 'anonymous volumes are not supported yet (use /host:/container)' : 'expected /host:/container[:options]');
  }
  const [source, target, opts] = parts as [string, string, string | undefined];
  if (!isAbsolute(source)) flagError(flag, value, `"${source}" is not an absolute host path (named volumes are not supported yet)`);
  if (!isAbsolute(target)) flagError(flag, value, `container path "${target}" must be absolute`);
  const mount: BindContainerMount = { type: 'bind', source, target, readonly: false, createSource: true };
  let mode: string | undefined;
  for (const opt of opts === undefined ? [] : opts.split(',')) {
    if (opt === 'ro' || opt === 'rw') {
      if (mode !== undefined) flagError(flag, value, 'ro and rw given together');
      mode = opt;
      mount.readonly = opt === 'ro';
    } else if (PROPAGATIONS.includes(opt)) {
      if (mount.propagation !== undefined) flagError(flag, value, 'two propagation modes');
      mount.propagation = opt as BindPropagation;
    } else if (opt !== 'z' && opt !== 'Z') {
      flagError(flag, value, `unknown option "${opt}"`);
    }
  }
  return mount;
}

/**
 * docker's `-e` rule on the client side: `KEY=value` is kept; a bare `KEY` takes its value from `env` (default
 * this process's environment) and stays bare when it is not set there (the engine then removes it from the
 * image's environment). Pure apart from reading `env`.
 *
 * @throws ERR_INVALID_ARGUMENT naming `--env` for an empty key.
 */
export function parseEnvFlag(value: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (typeof value !== 'string' || value === '' || value.startsWith('=')) flagError('--env', String(value), 'the variable name is empty');
  if (value.includes('=')) return value;
  const v = Object.hasOwn(env, value) ? env[value] : undefined;
  return v === undefined ? value : `${value}=${v}`;
}
