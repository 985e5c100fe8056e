/**
 * Options → argv for each runc verb. Pure: no I/O, so every flag is unit-tested. Each builder validates what it
 * is given and throws `ERR_INVALID_ARGUMENT` naming the offending option, before anything is spawned.
 * @module
 */
import { newError } from '../errors/index.js';
import type {
  CheckpointOptions,
  CreateOptions,
  CriuOptions,
  DeleteOptions,
  ExecOptions,
  KillOptions,
  OCIRuntimeOptions,
  RestoreOptions,
  RunOptions,
} from './options.js';

// runc's own rule for container ids (libcontainer's idRegex), minus "." and "..".
const ID_PATTERN = /^[\w+.-]+$/;
const SIGNAL_NAME = /^(SIG)?[A-Z][A-Z0-9]*([+-]\d+)?$/;

function invalid(message: string): never {
  throw newError('ERR_INVALID_ARGUMENT', message);
}

/** Throws `ERR_INVALID_ARGUMENT` unless `id` is a container id runc accepts (`[A-Za-z0-9_+.-]+`, not `.`/`..`). */
export function validateId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id) || id === '.' || id === '..') {
    invalid(`container id ${JSON.stringify(id)} is invalid: use letters, digits, "_", "+", "-" and "."`);
  }
}

function requirePath(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') invalid(`${name} must be a non-empty path`);
}

function optionalPath(name: string, value: unknown): void {
  if (value !== undefined) requirePath(name, value);
}

/**
 * The signal as runc's `kill` takes it: a name (`SIGKILL`, `KILL`, `RTMIN+3`, upper-cased) or a number 1–64.
 * Throws `ERR_INVALID_ARGUMENT` for anything else.
 */
export function formatSignal(signal: string | number): string {
  if (typeof signal === 'number') {
    if (!Number.isInteger(signal) || signal < 1 || signal > 64) invalid(`signal ${signal} is not a signal number (1–64)`);
    return String(signal);
  }
  const name = typeof signal === 'string' ? signal.toUpperCase() : '';
  if (!SIGNAL_NAME.test(name)) invalid(`signal ${JSON.stringify(signal)} is not a signal name or number`);
  return name;
}

/** A Go duration for a positive number of milliseconds (`--interval`): `250ms`, `5s`. */
export function formatInterval(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) invalid(`interval must be a positive integer of milliseconds, got ${ms}`);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The global flags, from the runtime's options; `logPath` is the log this call writes to (the shared one or a
 * private one), always in JSON unless a shared log asked for text.
 */
export function globalArgs(options: OCIRuntimeOptions, logPath?: string): string[] {
  optionalPath('root', options.root);
  optionalPath('criu', options.criu);
  const args: string[] = [];
  if (options.debug) args.push('--debug');
  if (logPath !== undefined) {
    const format = logPath === options.log ? (options.logFormat ?? 'json') : 'json';
    args.push('--log', logPath, '--log-format', format);
  }
  if (options.root !== undefined) args.push('--root', options.root);
  if (options.criu !== undefined) args.push('--criu', options.criu);
  if (options.systemdCgroup) args.push('--systemd-cgroup');
  // undefined leaves runc's "auto" detection; go-runc's *bool does the same.
  if (options.rootless !== undefined) args.push(`--rootless=${options.rootless}`);
  return args;
}

/** Throws `ERR_INVALID_ARGUMENT` when a runtime option is malformed. */
export function validateRuntimeOptions(options: OCIRuntimeOptions): void {
  if (options.binary !== undefined) requirePath('binary', options.binary);
  optionalPath('log', options.log);
  if (options.logFormat !== undefined && options.logFormat !== 'json' && options.logFormat !== 'text') {
    invalid(`logFormat must be "json" or "text", got ${JSON.stringify(options.logFormat)}`);
  }
  if (options.rootless !== undefined && typeof options.rootless !== 'boolean') invalid('rootless must be a boolean or undefined');
  globalArgs(options);
}

/** `create` argv. `pidFile` is where this call reads the pid from (the caller's or a private one). */
export function createArgs(id: string, bundle: string, options: CreateOptions, pidFile: string): string[] {
  validateId(id);
  requirePath('bundle', bundle);
  requirePath('pidFile', pidFile);
  optionalPath('consoleSocket', options.consoleSocket);
  const args = ['create', '--bundle', bundle, '--pid-file', pidFile];
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  if (options.noPivot) args.push('--no-pivot');
  if (options.noNewKeyring) args.push('--no-new-keyring');
  args.push(id);
  return args;
}

/** `run` argv; `pidFile` as for {@link createArgs} (optional in the foreground). */
export function runArgs(id: string, bundle: string, options: RunOptions, pidFile?: string): string[] {
  validateId(id);
  requirePath('bundle', bundle);
  optionalPath('pidFile', pidFile);
  optionalPath('consoleSocket', options.consoleSocket);
  if (options.detach && options.keep) invalid('keep applies to a foreground run only');
  const args = ['run', '--bundle', bundle];
  if (options.detach) args.push('--detach');
  if (pidFile !== undefined) args.push('--pid-file', pidFile);
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  if (options.noPivot) args.push('--no-pivot');
  if (options.noNewKeyring) args.push('--no-new-keyring');
  if (options.noSubreaper) args.push('--no-subreaper');
  if (options.keep) args.push('--keep');
  args.push(id);
  return args;
}

/** `exec` argv, for a process spec already written to `processFile`. */
export function execArgs(id: string, processFile: string, options: ExecOptions, pidFile: string): string[] {
  validateId(id);
  requirePath('processFile', processFile);
  requirePath('pidFile', pidFile);
  optionalPath('consoleSocket', options.consoleSocket);
  if (options.detach && options.tty && options.consoleSocket === undefined) {
    invalid('a detached exec with tty needs consoleSocket (a terminal master fd can only be received with fd passing: use the ShimManager)');
  }
  const args = ['exec', '--process', processFile, '--pid-file', pidFile];
  if (options.detach) args.push('--detach');
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  if (options.ignorePaused) args.push('--ignore-paused');
  args.push(id);
  return args;
}

/** `kill` argv. */
export function killArgs(id: string, signal: string | number, options: KillOptions = {}): string[] {
  validateId(id);
  const sig = formatSignal(signal);
  return options.all ? ['kill', '--all', id, sig] : ['kill', id, sig];
}

/** `delete` argv. */
export function deleteArgs(id: string, options: DeleteOptions = {}): string[] {
  validateId(id);
  return options.force ? ['delete', '--force', id] : ['delete', id];
}

/** `events` argv: a stream every `interval` ms, or one sample with `stats`. */
export function eventsArgs(id: string, options: { interval?: number; stats?: boolean }): string[] {
  validateId(id);
  if (options.stats) return ['events', '--stats', id];
  return options.interval === undefined ? ['events', id] : ['events', '--interval', formatInterval(options.interval), id];
}

/** `update` argv: resources JSON read from stdin. */
export function updateArgs(id: string): string[] {
  validateId(id);
  return ['update', '--resources', '-', id];
}

/** The argv of the verbs that take only an id: `start`, `state`, `pause`, `resume`, `ps --format json`. */
export function idArgs(verb: 'start' | 'state' | 'pause' | 'resume' | 'ps', id: string): string[] {
  validateId(id);
  return verb === 'ps' ? ['ps', '--format', 'json', id] : [verb, id];
}

function criuArgs(options: CriuOptions): string[] {
  optionalPath('workPath', options.workPath);
  const mode = options.manageCgroupsMode;
  if (mode !== undefined && mode !== 'soft' && mode !== 'full' && mode !== 'strict') {
    invalid(`manageCgroupsMode must be soft, full or strict, got ${JSON.stringify(mode)}`);
  }
  const args: string[] = [];
  if (options.workPath !== undefined) args.push('--work-path', options.workPath);
  if (options.tcpEstablished) args.push('--tcp-established');
  if (options.extUnixSk) args.push('--ext-unix-sk');
  if (options.shellJob) args.push('--shell-job');
  if (options.fileLocks) args.push('--file-locks');
  if (mode !== undefined) args.push('--manage-cgroups-mode', mode);
  for (const ns of options.emptyNamespaces ?? []) {
    if (typeof ns !== 'string' || ns === '') invalid('emptyNamespaces must hold namespace names');
    args.push('--empty-ns', ns);
  }
  if (options.autoDedup) args.push('--auto-dedup');
  return args;
}

/** `checkpoint` argv. */
export function checkpointArgs(id: string, imagePath: string, options: CheckpointOptions = {}): string[] {
  validateId(id);
  requirePath('imagePath', imagePath);
  optionalPath('parentPath', options.parentPath);
  const args = ['checkpoint', '--image-path', imagePath, ...criuArgs(options)];
  if (options.parentPath !== undefined) args.push('--parent-path', options.parentPath);
  if (options.leaveRunning) args.push('--leave-running');
  if (options.preDump) args.push('--pre-dump');
  args.push(id);
  return args;
}

/** `restore` argv; `pidFile` as for {@link createArgs}. */
export function restoreArgs(id: string, bundle: string, imagePath: string, options: RestoreOptions, pidFile?: string): string[] {
  validateId(id);
  requirePath('bundle', bundle);
  requirePath('imagePath', imagePath);
  optionalPath('pidFile', pidFile);
  optionalPath('consoleSocket', options.consoleSocket);
  const args = ['restore', '--bundle', bundle, '--image-path', imagePath, ...criuArgs(options)];
  if (options.detach) args.push('--detach');
  if (pidFile !== undefined) args.push('--pid-file', pidFile);
  if (options.consoleSocket !== undefined) args.push('--console-socket', options.consoleSocket);
  if (options.noSubreaper) args.push('--no-subreaper');
  if (options.noPivot) args.push('--no-pivot');
  args.push(id);
  return args;
}
