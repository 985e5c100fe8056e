/**
 * Parsers for what runc prints: `state`, `list --format json`, `ps --format json`, `--version` and `features`.
 * Pure. Output that does not have the documented shape throws `ERR_RUNC_FAILED` with the output (capped) in
 * `details.output`, so a runtime that prints something else fails loudly instead of returning half a value.
 * @module
 */
import { newError } from '../errors/index.js';
import type { ContainerState, ContainerStatus, RuntimeFeatures, RuntimeVersion } from './types.js';

const OUTPUT_CAP = 2048;
const STATUSES: readonly ContainerStatus[] = ['creating', 'created', 'running', 'paused', 'stopped'];

function bad(what: string, output: string, why: string): never {
  throw newError('ERR_RUNC_FAILED', `could not parse the output of ${what}: ${why}`, { details: { output: output.slice(0, OUTPUT_CAP) } });
}

function parseJson(what: string, output: string): unknown {
  try {
    return JSON.parse(output);
  } catch (err) {
    return bad(what, output, (err as Error).message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toState(what: string, output: string, value: unknown): ContainerState {
  if (!isObject(value)) bad(what, output, 'not a JSON object');
  const { ociVersion, id, pid, status, bundle, rootfs, created, owner } = value;
  if (typeof id !== 'string' || id === '') bad(what, output, 'no "id"');
  if (typeof pid !== 'number' || !Number.isInteger(pid)) bad(what, output, 'no integer "pid"');
  if (typeof status !== 'string' || !STATUSES.includes(status as ContainerStatus)) bad(what, output, `unknown status ${JSON.stringify(status)}`);
  const date = typeof created === 'string' ? new Date(created) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) bad(what, output, 'no RFC 3339 "created"');
  return {
    ociVersion: typeof ociVersion === 'string' ? ociVersion : '',
    id,
    pid,
    status: status as ContainerStatus,
    bundle: typeof bundle === 'string' ? bundle : '',
    rootfs: typeof rootfs === 'string' ? rootfs : '',
    created: date,
    owner: typeof owner === 'string' ? owner : '',
    annotations: stringRecord(value.annotations),
  };
}

/** Parses `runc state <id>`. */
export function parseState(output: string): ContainerState {
  return toState('runc state', output, parseJson('runc state', output));
}

/** Parses `runc list --format json`; runc prints `null` when there are no containers. */
export function parseContainerList(output: string): ContainerState[] {
  const value = parseJson('runc list', output);
  if (value === null) return [];
  if (!Array.isArray(value)) bad('runc list', output, 'not a JSON array');
  return value.map((entry) => toState('runc list', output, entry));
}

/** Parses `runc ps --format json <id>`: the pids of the container's processes. */
export function parsePids(output: string): number[] {
  const value = parseJson('runc ps', output);
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'number' && Number.isInteger(p) && p > 0)) {
    bad('runc ps', output, 'not an array of pids');
  }
  return value as number[];
}

const KNOWN_VERSION_KEYS = new Set(['commit', 'spec', 'go', 'libseccomp']);

/**
 * Parses `<runtime> --version`: a first line `<name> version <version>`, then `key: value` lines (runc's commit,
 * spec, go, libseccomp; crun's rundir) and, from crun, a line of `+FEATURE -FEATURE` flags.
 */
export function parseVersion(output: string): RuntimeVersion {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const first = /^(\S+) version (\S+)/.exec(lines[0] ?? '');
  if (!first) bad('--version', output, 'the first line is not "<name> version <version>"');
  const result: RuntimeVersion = { name: first[1]!, version: first[2]!, extra: {} };
  for (const line of lines.slice(1)) {
    const kv = /^([\w.-]+):\s*(.*)$/.exec(line);
    if (kv) {
      const [, key, value] = kv as unknown as [string, string, string];
      if (KNOWN_VERSION_KEYS.has(key)) (result as unknown as Record<string, string>)[key] = value;
      else result.extra[key] = value;
    } else if (/^[+-]\S/.test(line)) {
      result.extra.features = line;
    }
  }
  return result;
}

/** Parses `runc features` (runtime-spec features.md). */
export function parseFeatures(output: string): RuntimeFeatures {
  const value = parseJson('runc features', output);
  if (!isObject(value)) bad('runc features', output, 'not a JSON object');
  if (typeof value.ociVersionMin !== 'string' || typeof value.ociVersionMax !== 'string') {
    bad('runc features', output, 'no ociVersionMin/ociVersionMax');
  }
  const linux = isObject(value.linux) ? value.linux : {};
  const cgroup = isObject(linux.cgroup) ? linux.cgroup : {};
  const seccomp = isObject(linux.seccomp) ? linux.seccomp : {};
  const enabled = (v: unknown): { enabled: boolean } => ({ enabled: isObject(v) && v.enabled === true });
  return {
    ociVersionMin: value.ociVersionMin,
    ociVersionMax: value.ociVersionMax,
    hooks: stringList(value.hooks),
    mountOptions: stringList(value.mountOptions),
    linux: {
      namespaces: stringList(linux.namespaces),
      capabilities: stringList(linux.capabilities),
      cgroup: { v1: cgroup.v1 === true, v2: cgroup.v2 === true, systemd: cgroup.systemd === true, systemdUser: cgroup.systemdUser === true },
      seccomp: {
        enabled: seccomp.enabled === true,
        actions: stringList(seccomp.actions),
        operators: stringList(seccomp.operators),
        archs: stringList(seccomp.archs),
      },
      apparmor: enabled(linux.apparmor),
      selinux: enabled(linux.selinux),
    },
    annotations: stringRecord(value.annotations),
  };
}
