import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import type { LinuxResources, Spec, SpecProcess } from '../oci/index.js';
import { logger } from '../util/debug.js';
import * as args from './args.js';
import { readPidFile, runBuffered, runcEnv, Scratch } from './command.js';
import { findCriu, withCriuEvidence } from './criu.js';
import { RuncError } from './errors.js';
import { streamEvents } from './event-stream.js';
import { parseEventLine } from './events.js';
import { checkProcessSpec, pidFileHooks, signalPid, writeProcessSpec } from './exec-process.js';
import { checkInput, prepareStdio, type StdioMode } from './io.js';
import { type Launch, runToExit, startDetached, startForeground } from './launch.js';
import type {
  CallOptions,
  CheckpointOptions,
  CreateOptions,
  DeleteOptions,
  EventsOptions,
  ExecOptions,
  KillOptions,
  OCIRuntimeOptions,
  RestoreOptions,
  RunOptions,
} from './options.js';
import { parseContainerList, parseFeatures, parsePids, parseState, parseVersion } from './parse.js';
import type { ForegroundHooks, RuncProcess } from './process.js';
import type { ContainerInfo, ContainerState, DetachedResult, ExitResult, RuncEvent, RuntimeFeatures, RuntimeVersion, Stats } from './types.js';

const log = logger('runtime');
const FOREGROUND_DEFAULT: [StdioMode, StdioMode, StdioMode] = ['ignore', 'pipe', 'pipe'];
const HANDLE_DEFAULT: [StdioMode, StdioMode, StdioMode] = ['pipe', 'pipe', 'pipe'];
const DETACHED_DEFAULT: [StdioMode, StdioMode, StdioMode] = ['ignore', 'ignore', 'ignore'];

/**
 * runc from Node, one method per verb, in the manner of containerd's go-runc. Global flags come from the
 * constructor and apply to every call; per-call flags come from each verb's options. The binary is configurable,
 * so runtimes with runc's CLI (crun, youki) work too; containerkit is tested with runc. Every method takes
 * `options.signal` (cancel: runc is killed, the promise rejects with `signal.reason`).
 *
 * Exit statuses: a foreground `run`, an attached `exec` and a foreground `restore` report the process's real exit
 * status (137 after SIGKILL). A detached container's status is never known here: its parent, runc, is gone, so it
 * takes a reaper (the ShimManager) to learn it, and nothing is made up.
 *
 * Terminals: with `terminal: true` in the spec, a foreground run/exec works when stdio is inherited from a real
 * TTY (runc runs the pty). A detached terminal needs a console socket receiving the pty master through SCM_RIGHTS,
 * which Node 20 cannot do: that path belongs to the ShimManager.
 *
 * Errors: a failed call throws a `RuncError` (`ERR_RUNC_FAILED`, or `ERR_RUNC_CONTAINER_NOT_FOUND`,
 * `ERR_RUNC_CONTAINER_EXISTS`, `ERR_RUNC_CONTAINER_STATE` when runc's message says so) carrying runc's own
 * message from its JSON log, the argv, the exit code and a stderr tail; a missing binary is `ERR_TOOL_MISSING`;
 * bad arguments are `ERR_INVALID_ARGUMENT`, thrown before anything runs.
 */
export class OCIRuntime {
  readonly #options: OCIRuntimeOptions;

  /** Throws `ERR_INVALID_ARGUMENT` for malformed options. See {@link OCIRuntimeOptions} for the defaults. */
  constructor(options: OCIRuntimeOptions = {}) {
    args.validateRuntimeOptions(options);
    this.#options = { ...options, ...(options.env ? { env: { ...options.env } } : {}) };
  }

  /** The runtime binary this instance runs. */
  get binary(): string {
    return this.#options.binary ?? 'runc';
  }

  /** The state root (`--root`), when one was set. */
  get root(): string | undefined {
    return this.#options.root;
  }

  #call(what: string, verbArgs: string[], options: CallOptions & { input?: string } = {}): Promise<string> {
    return runBuffered(this.#options, { what, verbArgs, signal: options.signal, input: options.input });
  }

  // withDir: the call needs pid or process files beside the log.
  async #launch(
    what: string,
    verbArgs: (scratch: Scratch) => string[],
    stdio: Launch['stdio'],
    signal: AbortSignal | undefined,
    withDir: boolean,
  ): Promise<Launch> {
    signal?.throwIfAborted();
    const scratch = await Scratch.open(this.#options, withDir);
    return { what, verbArgs: verbArgs(scratch), scratch, stdio, signal };
  }

  // SIGKILL and cleanup for a process that is the container's init (run, restore).
  #initHooks(id: string): ForegroundHooks {
    return {
      signalDirect: (sig) =>
        this.kill(id, sig).then(
          () => true,
          () => false,
        ),
      afterAbort: () => this.#forceDelete(id),
    };
  }

  async #forceDelete(id: string): Promise<void> {
    await this.delete(id, { force: true }).catch((err: unknown) => log('delete --force %s after cancel: %s', id, (err as Error).message));
  }

  /**
   * `runc create`: sets up the container from `bundle` and stops before running its process (`start` runs it).
   * Resolves once created (runc create has no --detach: it always returns then), with the init's pid and, for
   * `stdio: 'pipe'`, the pipes the process will use. On cancel a half-created container is deleted.
   */
  async create(id: string, bundle: string, options: CreateOptions = {}): Promise<DetachedResult> {
    args.createArgs(id, bundle, options, options.pidFile ?? '-');
    const stdio = prepareStdio(options.stdio, DETACHED_DEFAULT, true);
    let pidFile = '';
    const launch = await this.#launch(
      `runc create ${id}`,
      (s) => args.createArgs(id, bundle, options, (pidFile = options.pidFile ?? s.file('pid'))),
      stdio,
      options.signal,
      true,
    );
    return startDetached(this.#options, launch, pidFile, () => this.#forceDelete(id));
  }

  /** `runc start`: runs the process of a created container. */
  async start(id: string, options: CallOptions = {}): Promise<void> {
    await this.#call(`runc start ${id}`, args.idArgs('start', id), options);
  }

  /**
   * `runc run`: create and start. In the foreground (default) resolves with the real {@link ExitResult} (stdout and
   * stderr collected unless redirected); the container is deleted by runc when it ends (unless `keep`). On cancel
   * the process is SIGKILLed and the container deleted. With `detach`, resolves once started
   * ({@link DetachedResult}).
   */
  run(id: string, bundle: string, options: RunOptions & { detach: true }): Promise<DetachedResult>;
  run(id: string, bundle: string, options?: RunOptions & { detach?: false }): Promise<ExitResult>;
  run(id: string, bundle: string, options: RunOptions): Promise<ExitResult | DetachedResult>;
  async run(id: string, bundle: string, options: RunOptions = {}): Promise<ExitResult | DetachedResult> {
    args.runArgs(id, bundle, options, options.pidFile);
    checkInput(options.input, options.detach);
    if (options.detach) {
      const stdio = prepareStdio(options.stdio, DETACHED_DEFAULT, true);
      let pidFile = '';
      const launch = await this.#launch(
        `runc run ${id}`,
        (s) => args.runArgs(id, bundle, options, (pidFile = options.pidFile ?? s.file('pid'))),
        stdio,
        options.signal,
        true,
      );
      return startDetached(this.#options, launch, pidFile, () => this.#forceDelete(id));
    }
    const stdio = prepareStdio(options.stdio, options.input === undefined ? FOREGROUND_DEFAULT : ['pipe', 'pipe', 'pipe']);
    const launch = await this.#launch(`runc run ${id}`, () => args.runArgs(id, bundle, options, options.pidFile), stdio, options.signal, false);
    return runToExit(this.#options, launch, this.#initHooks(id), options.input);
  }

  /** Foreground `runc run` as a {@link RuncProcess}: streams (all `'pipe'` by default) and `wait()`. */
  async runProcess(id: string, bundle: string, options: Omit<RunOptions, 'detach' | 'input'> = {}): Promise<RuncProcess> {
    args.runArgs(id, bundle, options, options.pidFile);
    const stdio = prepareStdio(options.stdio, HANDLE_DEFAULT);
    const launch = await this.#launch(
      `runc run ${id}`,
      () => args.runArgs(id, bundle, { ...options, detach: false }, options.pidFile),
      stdio,
      options.signal,
      false,
    );
    return startForeground(this.#options, launch, this.#initHooks(id));
  }

  /**
   * `runc exec`: runs `processSpec` (a runtime-spec process, written to a temp file for `--process`) in a running
   * container. Attached (default) resolves with its real {@link ExitResult}; on cancel it is SIGKILLed. With
   * `detach`, resolves once started.
   */
  exec(id: string, processSpec: SpecProcess, options: ExecOptions & { detach: true }): Promise<DetachedResult>;
  exec(id: string, processSpec: SpecProcess, options?: ExecOptions & { detach?: false }): Promise<ExitResult>;
  exec(id: string, processSpec: SpecProcess, options: ExecOptions): Promise<ExitResult | DetachedResult>;
  async exec(id: string, processSpec: SpecProcess, options: ExecOptions = {}): Promise<ExitResult | DetachedResult> {
    checkInput(options.input, options.detach);
    const defaults = options.detach ? DETACHED_DEFAULT : options.input === undefined ? FOREGROUND_DEFAULT : HANDLE_DEFAULT;
    const { launch, pidFile } = await this.#prepareExec(id, processSpec, options, defaults);
    if (options.detach) {
      return startDetached(this.#options, launch, pidFile, async () => {
        const pid = await readPidFile(pidFile);
        if (pid !== undefined) signalPid(pid, 'SIGKILL');
      });
    }
    return runToExit(this.#options, launch, pidFileHooks(pidFile), options.input);
  }

  /** Attached `runc exec` as a {@link RuncProcess}: streams (all `'pipe'` by default) and `wait()`. */
  async execProcess(id: string, processSpec: SpecProcess, options: Omit<ExecOptions, 'detach' | 'input'> = {}): Promise<RuncProcess> {
    const { launch, pidFile } = await this.#prepareExec(id, processSpec, { ...options, detach: false }, HANDLE_DEFAULT);
    return startForeground(this.#options, launch, pidFileHooks(pidFile));
  }

  async #prepareExec(
    id: string,
    processSpec: SpecProcess,
    options: ExecOptions,
    defaults: [StdioMode, StdioMode, StdioMode],
  ): Promise<{ launch: Launch; pidFile: string }> {
    args.execArgs(id, '-', options, options.pidFile ?? '-');
    checkProcessSpec(processSpec);
    const stdio = prepareStdio(options.stdio, defaults, options.detach);
    let pidFile = '';
    const launch = await this.#launch(
      `runc exec ${id}`,
      (s) => args.execArgs(id, s.file('process.json'), options, (pidFile = options.pidFile ?? s.file('pid'))),
      stdio,
      options.signal,
      true,
    );
    try {
      await writeProcessSpec(launch.scratch.file('process.json'), processSpec, options.tty, options.pidFile);
    } catch (err) {
      await launch.scratch.dispose();
      throw err;
    }
    return { launch, pidFile };
  }

  /** `runc kill`: sends `signal` (name or number; default SIGTERM) to the init, or with `all` to every process. */
  async kill(id: string, signal: string | number = 'SIGTERM', options: KillOptions = {}): Promise<void> {
    await this.#call(`runc kill ${id}`, args.killArgs(id, signal, options), options);
  }

  /** `runc delete`: removes a stopped container (with `force`, SIGKILLs a running one first). */
  async delete(id: string, options: DeleteOptions = {}): Promise<void> {
    await this.#call(`runc delete ${id}`, args.deleteArgs(id, options), options);
  }

  /** `runc state`. Throws `ERR_RUNC_CONTAINER_NOT_FOUND` for an unknown id. */
  async state(id: string, options: CallOptions = {}): Promise<ContainerState> {
    return parseState(await this.#call(`runc state ${id}`, args.idArgs('state', id), options));
  }

  /** `runc list`: every container under the state root. */
  async list(options: CallOptions = {}): Promise<ContainerInfo[]> {
    return parseContainerList(await this.#call('runc list', ['list', '--format', 'json'], options));
  }

  /** `runc ps --format json`: the host pids of the container's processes. */
  async ps(id: string, options: CallOptions = {}): Promise<number[]> {
    return parsePids(await this.#call(`runc ps ${id}`, args.idArgs('ps', id), options));
  }

  /** `runc pause`: freezes every process of the container. */
  async pause(id: string, options: CallOptions = {}): Promise<void> {
    await this.#call(`runc pause ${id}`, args.idArgs('pause', id), options);
  }

  /** `runc resume`: thaws a paused container. */
  async resume(id: string, options: CallOptions = {}): Promise<void> {
    await this.#call(`runc resume ${id}`, args.idArgs('resume', id), options);
  }

  /** `runc update`: applies new cgroup limits (`resources` as in config.json's `linux.resources`, sent on stdin). */
  async update(id: string, resources: LinuxResources, options: CallOptions = {}): Promise<void> {
    const verbArgs = args.updateArgs(id);
    if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
      throw newError('ERR_INVALID_ARGUMENT', 'resources must be an object (runtime-spec linux.resources)');
    }
    await this.#call(`runc update ${id}`, verbArgs, { ...options, input: JSON.stringify(resources) });
  }

  /**
   * `runc events`: stats every `interval` ms (default 5000) and OOM notices, decoded lazily. Endless while runc
   * runs (also after the container stops); leaving the loop stops runc, and so does `signal`: the iteration then
   * ends quietly (no rejection), an already-aborted signal yields nothing and starts no runc. A line that does not
   * decode yields an `error` event and the stream goes on. @throws RuncError when runc fails (no such container).
   */
  events(id: string, options: EventsOptions = {}): AsyncIterable<RuncEvent> {
    const verbArgs = args.eventsArgs(id, { interval: options.interval });
    return streamEvents(this.#options, `runc events ${id}`, verbArgs, options.signal);
  }

  /** `runc events --stats`: one stats sample. */
  async stats(id: string, options: CallOptions = {}): Promise<Stats> {
    const line = (await this.#call(`runc events --stats ${id}`, args.eventsArgs(id, { stats: true }), options)).trim();
    const event = parseEventLine(line);
    if (event.type !== 'stats') throw newError('ERR_RUNC_FAILED', `runc events --stats ${id} printed no stats`, { details: { output: line.slice(0, 1024) } });
    return event.stats;
  }

  /**
   * `runc checkpoint` into `imagePath` (created by runc if missing). Throws `ERR_CRIU_MISSING` when criu is not
   * installed, and `ERR_CRIU_FAILED` with criu's error lines in `details.criuErrors` when it fails (on some
   * kernels criu cannot work at all; the container is left as it was).
   */
  async checkpoint(id: string, imagePath: string, options: CheckpointOptions = {}): Promise<void> {
    const verbArgs = args.checkpointArgs(id, imagePath, options);
    options.signal?.throwIfAborted();
    await findCriu(this.#options.criu ?? 'criu', runcEnv(this.#options));
    const workDir = options.workPath ?? imagePath;
    await runBuffered(this.#options, { what: `runc checkpoint ${id}`, verbArgs, signal: options.signal, enrich: (err) => withCriuEvidence(err, workDir) });
  }

  /**
   * `runc restore` of a checkpoint as container `id`: like {@link OCIRuntime.run}, foreground (the real exit
   * status) or detached. Throws `ERR_CRIU_MISSING` / `ERR_CRIU_FAILED` as {@link OCIRuntime.checkpoint} does.
   */
  restore(id: string, bundle: string, imagePath: string, options: RestoreOptions & { detach: true }): Promise<DetachedResult>;
  restore(id: string, bundle: string, imagePath: string, options?: RestoreOptions & { detach?: false }): Promise<ExitResult>;
  restore(id: string, bundle: string, imagePath: string, options: RestoreOptions): Promise<ExitResult | DetachedResult>;
  async restore(id: string, bundle: string, imagePath: string, options: RestoreOptions = {}): Promise<ExitResult | DetachedResult> {
    args.restoreArgs(id, bundle, imagePath, options, options.pidFile);
    const stdio = prepareStdio(options.stdio, options.detach ? DETACHED_DEFAULT : FOREGROUND_DEFAULT, options.detach);
    options.signal?.throwIfAborted();
    await findCriu(this.#options.criu ?? 'criu', runcEnv(this.#options));
    let pidFile = '';
    const verbArgs = (s: Scratch): string[] => {
      if (options.detach) pidFile = options.pidFile ?? s.file('pid');
      return args.restoreArgs(id, bundle, imagePath, options, options.detach ? pidFile : options.pidFile);
    };
    const launch = await this.#launch(`runc restore ${id}`, verbArgs, stdio, options.signal, options.detach === true);
    try {
      if (options.detach) return await startDetached(this.#options, launch, pidFile, () => this.#forceDelete(id));
      return await runToExit(this.#options, launch, this.#initHooks(id));
    } catch (err) {
      throw err instanceof RuncError ? await withCriuEvidence(err, options.workPath ?? imagePath) : err;
    }
  }

  /** `runc features`: what this runtime supports (hooks, mount options, namespaces, capabilities, cgroup, seccomp). */
  async features(options: CallOptions = {}): Promise<RuntimeFeatures> {
    return parseFeatures(await this.#call('runc features', ['features'], options));
  }

  /** `runc --version`, parsed (also crun's and youki's output). */
  async version(options: CallOptions = {}): Promise<RuntimeVersion> {
    return parseVersion(await this.#call('runc --version', ['--version'], options));
  }

  /**
   * `runc spec`: writes runc's example config.json into `bundle` (which must not have one) and returns it. A
   * starting point like the runc README's; `generateSpec` builds a hardened one.
   */
  async spec(bundle: string, options: CallOptions & { rootless?: boolean } = {}): Promise<Spec> {
    if (typeof bundle !== 'string' || bundle === '') throw newError('ERR_INVALID_ARGUMENT', 'bundle must be a non-empty path');
    await this.#call('runc spec', ['spec', '--bundle', bundle, ...(options.rootless ? ['--rootless'] : [])], options);
    return JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as Spec;
  }
}
