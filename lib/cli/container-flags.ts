import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { ContainerMount, ContainerResources, NetworkMode, PullPolicy, TmpfsContainerMount } from '../engine/create-options.js';
import type { EngineCreateOptions } from '../engine/engine-types.js';
// flags.ts alone, not the engine barrel: parsing a command line must not load the engine's runtime.
import { parseByteSize, parseEnvFlag, parseMountFlag, parseVolumeFlag } from '../engine/flags.js';
import { newError } from '../errors/index.js';
import { fsError } from '../util/fs-error.js';
import type { Command, ParsedCommandArgs } from './command.js';

/** `docker create`'s flags (and so `run`'s), as parseArgs options. `-h` stays help: `--hostname` has no short form. */
export const CREATE_FLAGS = {
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  name: { type: 'string' },
  hostname: { type: 'string' },
  init: { type: 'boolean' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  rm: { type: 'boolean' },
  user: { type: 'string', short: 'u' },
  workdir: { type: 'string', short: 'w' },
  entrypoint: { type: 'string' },
  mount: { type: 'string', multiple: true },
  volume: { type: 'string', short: 'v', multiple: true },
  tmpfs: { type: 'string', multiple: true },
  label: { type: 'string', short: 'l', multiple: true },
  network: { type: 'string' },
  'read-only': { type: 'boolean' },
  'cap-add': { type: 'string', multiple: true },
  'cap-drop': { type: 'string', multiple: true },
  privileged: { type: 'boolean' },
  memory: { type: 'string', short: 'm' },
  cpus: { type: 'string' },
  'pids-limit': { type: 'string' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  pull: { type: 'string' },
  platform: { type: 'string' },
} as const satisfies Command['options'];

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function bad(flag: string, value: string, why: string): never {
  throw newError('ERR_INVALID_ARGUMENT', `invalid ${flag} value ${JSON.stringify(value)}: ${why}`, { details: { flag, value } });
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) bad(flag, value, 'not an integer');
  return Number(value);
}

/** docker's `--tmpfs /path[:size=64m,mode=1777,ro]`. */
function parseTmpfsFlag(value: string): TmpfsContainerMount {
  const colon = value.indexOf(':');
  const target = colon < 0 ? value : value.slice(0, colon);
  if (!isAbsolute(target)) bad('--tmpfs', value, 'the path must be absolute');
  const mount: TmpfsContainerMount = { type: 'tmpfs', target };
  for (const opt of colon < 0 ? [] : value.slice(colon + 1).split(',')) {
    const [key, v = ''] = opt.split('=', 2) as [string, string?];
    if (key === 'size') mount.size = parseByteSize(v) ?? bad('--tmpfs', value, `size "${v}" is not a size`);
    else if (key === 'mode') mount.mode = /^[0-7]{1,4}$/.test(v) ? Number.parseInt(v, 8) : bad('--tmpfs', value, `mode "${v}" is not octal`);
    else if (key === 'ro' || key === 'rw') mount.readonly = key === 'ro';
    else if (!['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev'].includes(key)) bad('--tmpfs', value, `unknown option "${key}"`);
  }
  return mount;
}

/** An env file as docker reads it: `KEY=value` or `KEY` per line; blank lines and `#` comments skipped. */
async function readEnvFile(path: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => Promise.reject(fsError(err, 'read the env file', path)));
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s+/, ''))
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => parseEnvFlag(l, env));
}

function labels(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const l of values) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === '') bad('--label', l, 'the key is empty');
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return { ...out };
}

function resources(v: ParsedCommandArgs['values']): ContainerResources | undefined {
  const out: ContainerResources = {};
  const memory = str(v['memory']);
  if (memory !== undefined) out.memory = parseByteSize(memory) ?? bad('--memory', memory, 'not a size (e.g. 64m)');
  const cpus = str(v['cpus']);
  if (cpus !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(cpus)) bad('--cpus', cpus, 'not a number');
    out.cpus = Number(cpus);
  }
  const pids = integer('--pids-limit', str(v['pids-limit']));
  if (pids !== undefined) out.pidsLimit = pids;
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * `docker create`'s flags ({@link CREATE_FLAGS}) as the Engine's create options; `-e KEY` and env files take values
 * from `env` (the CLI's environment), as docker's client does. Validation of the values themselves is the Engine's
 * (ERR_INVALID_ARGUMENT naming the option). @throws ERR_INVALID_ARGUMENT naming the flag; ERR_NOT_FOUND/ERR_IO for
 * an env file.
 */
export async function createOptionsOf(v: ParsedCommandArgs['values'], cmd: string[], env: NodeJS.ProcessEnv): Promise<EngineCreateOptions> {
  const envs: string[] = [];
  for (const file of strings(v['env-file'])) envs.push(...(await readEnvFile(file, env)));
  envs.push(...strings(v['env']).map((e) => parseEnvFlag(e, env)));
  const mounts: ContainerMount[] = [
    ...strings(v['mount']).map(parseMountFlag),
    ...strings(v['volume']).map(parseVolumeFlag),
    ...strings(v['tmpfs']).map(parseTmpfsFlag),
  ];
  const network = str(v['network']);
  if (network !== undefined && network !== 'none' && network !== 'host') bad('--network', network, 'only "none" and "host" are supported');
  const pull = str(v['pull']);
  if (pull !== undefined && !['missing', 'always', 'never'].includes(pull)) bad('--pull', pull, 'must be missing, always or never');
  const entrypoint = str(v['entrypoint']);
  const opts: EngineCreateOptions = {
    ...(cmd.length > 0 ? { cmd } : {}),
    ...(entrypoint === undefined ? {} : { entrypoint: entrypoint === '' ? [] : [entrypoint] }),
    ...(envs.length > 0 ? { env: envs } : {}),
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(network === undefined ? {} : { network: network as NetworkMode }),
    ...(pull === undefined ? {} : { pull: pull as PullPolicy }),
  };
  const name = str(v['name']);
  if (name !== undefined) opts.name = name;
  const hostname = str(v['hostname']);
  if (hostname !== undefined) opts.hostname = hostname;
  const user = str(v['user']);
  if (user !== undefined) opts.user = user;
  const workdir = str(v['workdir']);
  if (workdir !== undefined) opts.workdir = workdir;
  const platform = str(v['platform']);
  if (platform !== undefined) opts.platform = platform;
  const stopSignal = str(v['stop-signal']);
  if (stopSignal !== undefined) opts.stopSignal = stopSignal;
  const stopTimeout = integer('--stop-timeout', str(v['stop-timeout']));
  if (stopTimeout !== undefined) opts.stopTimeout = stopTimeout;
  const lbls = labels(strings(v['label']));
  if (lbls !== undefined) opts.labels = lbls;
  const res = resources(v);
  if (res !== undefined) opts.resources = res;
  if (strings(v['cap-add']).length > 0) opts.capAdd = strings(v['cap-add']);
  if (strings(v['cap-drop']).length > 0) opts.capDrop = strings(v['cap-drop']);
  if (v['init'] === true) opts.init = true;
  if (v['tty'] === true) opts.tty = true;
  if (v['interactive'] === true) opts.stdin = true;
  if (v['privileged'] === true) opts.privileged = true;
  if (v['read-only'] === true) opts.readonlyRootfs = true;
  return opts;
}
