import type { Readable, Writable } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { newError } from '../errors/index.js';
import type { ExportArchiveOptions, ImportArchiveOptions, ImportArchiveResult, NamedImage, PullProgress } from '../images/index.js';
import type { Descriptor } from '../oci/index.js';
import { logger } from '../util/index.js';
import { attachContainer, type ContainerInput } from './attach.js';
import type { EngineBackend } from './backend.js';
import { containerLogs } from './container-logs.js';
import {
  createContainer,
  killContainer,
  liveTask,
  notAllowed,
  removeContainer,
  renameContainer,
  setPaused,
  startContainer,
  stopContainer,
  updateContainer,
} from './container-ops.js';
import { ContainerStore } from './container-store.js';
import { waitContainer } from './container-wait.js';
import type {
  ContainerHandle,
  ContainerInspect,
  ContainerStats,
  ContainerSummary,
  EngineCreateOptions,
  EngineEvents,
  EngineLogsOptions,
  EngineOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
  ListOptions,
  PortBinding,
  RemoveOptions,
  RunOptions,
  RunResult,
  StopOptions,
  TopResult,
  UpdateResources,
  WaitOptions,
} from './engine-types.js';
import { type EngineEvent, EventsLog } from './events-log.js';
import { execInContainer, execStream } from './exec.js';
import { type ImageRemoval, ImageService, type InspectedImage, type RunnableImage } from './image-service.js';
import { inspectRecord, listContainers, settledRecord } from './inspect.js';
import { Lifecycle } from './lifecycle.js';
import type { LogEntry } from './log-lines.js';
import { type RecoveryReport, recover } from './recovery.js';
import { runContainer } from './run.js';
import { ShimBackend } from './shim-backend.js';
import { statsOf, topOf } from './stats.js';

const log = logger('engine');

/** Options of `Engine.events`. */
export interface EngineEventsOptions {
  since?: Date;
  /** The iteration ends once past it. */
  until?: Date;
  /** After the stored events, wait for new ones from any process until `signal` aborts or `until` passes. Default true. */
  follow?: boolean;
  signal?: AbortSignal;
}

/**
 * The container engine: docker's verbs over one root, daemonless. Every part is public (`imageService`,
 * `containerStore`, `backend`, `eventsLog`); the Engine only puts them together.
 *
 * A container's spec and files are written at `create` (`containers/<id>/spec.json`, `hosts`, `hostname`,
 * `resolv.conf`, its rootfs snapshot prepared); its bundle and task at each `start`. When its task exits, the exit is
 * recorded and the task removed (the snapshot stays for the next start).
 *
 * Many processes, one root (each CLI call is a new Engine): every state change holds the container's lock and
 * re-reads the record; the exit is recorded by whoever observes it (the process that watches or waits), and
 * `list`/`inspect`/`wait`/`logs -f` check the backend for a running record nobody watched (lazy reconciliation);
 * `wait` polls the record; events are appended to the root's log, which `events()` follows; an OOM kill is read from
 * the cgroup as well as from the shim's event (which reaches only the process holding the events socket). Any
 * number of Engines may be open on one root at once, in one process or many; each watches the running containers
 * it started or found, and an exit two of them observe is recorded (and its `die` published) once.
 *
 * Events go to the root's log (see `events()`) and to this emitter (`event`, and `container` or `image`).
 *
 * Errors: ERR_NO_SUCH_CONTAINER, ERR_AMBIGUOUS_CONTAINER_REFERENCE, ERR_NAME_IN_USE, ERR_INVALID_ARGUMENT (naming
 * the option), ERR_FAILED_PRECONDITION (wrong state: `details.status`; a closed engine), ERR_IMAGE_NOT_FOUND,
 * ERR_IMAGE_IN_USE, ERR_LOCK_TIMEOUT, the backend's and registry's codes; `signal.reason` on abort.
 */
export class Engine extends EventEmitter<EngineEvents> {
  /** The engine root it was opened on. */
  readonly root: string;
  /** Images, their unpacked layers and the containers' rootfs snapshots (`<root>/content`, `<root>/snapshots`). */
  readonly imageService: ImageService;
  /** The container records, names and locks (`<root>/containers`, `names`, `locks`). */
  readonly containerStore: ContainerStore;
  /** What runs the tasks (the daemonless shim backend). */
  readonly backend: EngineBackend;
  /** The root's persisted events (`<root>/events`). */
  readonly eventsLog: EventsLog;
  /** What opening found and did. */
  readonly recovery: RecoveryReport;
  readonly #life: Lifecycle;
  readonly #namespace: string;
  #closed = false;
  #oomWatch: Promise<void> | undefined;

  private constructor(parts: { root: string; images: ImageService; store: ContainerStore; backend: EngineBackend; eventsLog: EventsLog; namespace: string }) {
    super();
    this.root = parts.root;
    this.imageService = parts.images;
    this.containerStore = parts.store;
    this.backend = parts.backend;
    this.eventsLog = parts.eventsLog;
    this.#namespace = parts.namespace;
    this.#life = new Lifecycle(this, parts.store, parts.images, parts.backend, parts.eventsLog);
    this.recovery = { running: [], exited: [], discarded: [] };
  }

  /**
   * Opens the engine on `root` and reattaches: running containers stay running and are watched, containers whose
   * task ended meanwhile get their real exit code and time, half-created leftovers are discarded.
   * Other Engines (in this or other processes) may have the root open too.
   * @throws ERR_INVALID_ARGUMENT; ERR_UNSUPPORTED_PLATFORM for an overlay snapshotter that does not mount; ERR_IO;
   *   `signal.reason`.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    const {
      root,
      backend = 'shim',
      registry,
      snapshotter = 'auto',
      namespace = 'containerkit',
      callTimeoutMs,
      lockTimeoutMs,
      signal,
    } = options ?? ({} as EngineOptions);
    if (typeof root !== 'string' || !root.startsWith('/')) throw newError('ERR_INVALID_ARGUMENT', 'options.root must be an absolute path');
    if (backend !== 'shim') throw newError('ERR_INVALID_ARGUMENT', "options.backend must be 'shim'");
    signal?.throwIfAborted();
    const images = await ImageService.open(root, { snapshotter, signal, ...(registry === undefined ? {} : { registry }) });
    const store = await ContainerStore.open(root, lockTimeoutMs === undefined ? {} : { lockTimeoutMs });
    const eventsLog = await EventsLog.open(root);
    const shims = await ShimBackend.open(root, { namespace, signal, ...(callTimeoutMs === undefined ? {} : { callTimeoutMs }) });
    const engine = new Engine({ root, images, store, backend: shims, eventsLog, namespace });
    try {
      Object.assign(engine.recovery, await recover(engine.#life, signal));
    } catch (err) {
      await engine.close();
      throw err;
    }
    engine.#oomWatch = engine.#watchOom();
    log('opened %s: %o', root, engine.recovery);
    return engine;
  }

  async #watchOom(): Promise<void> {
    try {
      for await (const event of this.backend.events({ signal: this.#life.closing })) {
        if (event.type === 'oom') await this.#life.oom(event.containerId);
      }
    } catch (err) {
      log('backend events ended: %s', (err as Error).message);
    }
  }

  #check(): Lifecycle {
    if (this.#closed) throw newError('ERR_FAILED_PRECONDITION', 'the engine is closed');
    return this.#life;
  }

  /** Lets go of everything (watches, the backend's connections); containers keep running. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#life.close();
    await this.backend.close();
    await this.#oomWatch;
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // Images

  /** Pulls `ref` (docker pull) and unpacks it. Emits `pull`. */
  async pull(ref: string, options: { onProgress?: (event: PullProgress) => void; signal?: AbortSignal } = {}): Promise<RunnableImage> {
    const life = this.#check();
    const image = await this.imageService.ensureImage(ref, { pull: 'always', ...options });
    await life.publish({ Type: 'image', Action: 'pull', Actor: { ID: image.name, Attributes: { name: image.name } } });
    return image;
  }

  /** Every named image (docker images). */
  images(options: { signal?: AbortSignal } = {}): Promise<NamedImage[]> {
    this.#check();
    return this.imageService.list(options);
  }

  /** The image `ref` with manifest, config and chain ID. @throws ERR_IMAGE_NOT_FOUND */
  inspectImage(ref: string, options: { signal?: AbortSignal } = {}): Promise<InspectedImage> {
    this.#check();
    return this.imageService.inspect(ref, options);
  }

  /** Names image `source` also `target` (docker tag). Emits `tag`. */
  async tag(source: string, target: string, options: { signal?: AbortSignal } = {}): Promise<NamedImage> {
    const life = this.#check();
    const named = await this.imageService.tag(source, target, options);
    await life.publish({ Type: 'image', Action: 'tag', Actor: { ID: named.target.digest, Attributes: { name: named.name } } });
    return named;
  }

  /**
   * Removes the name `ref` (docker rmi); its last name takes the image's unused layers with it. Emits `untag`,
   * then `delete` when the image went. @throws ERR_IMAGE_NOT_FOUND; ERR_IMAGE_IN_USE without `force`.
   */
  async removeImage(ref: string, options: { force?: boolean; signal?: AbortSignal } = {}): Promise<ImageRemoval> {
    const life = this.#check();
    const removed = await this.imageService.removeImage(ref, options);
    for (const name of removed.untagged) await life.publish({ Type: 'image', Action: 'untag', Actor: { ID: name, Attributes: { name } } });
    if (removed.gc !== undefined)
      await life.publish({ Type: 'image', Action: 'delete', Actor: { ID: removed.untagged[0] ?? ref, Attributes: { name: removed.untagged[0] ?? ref } } });
    return removed;
  }

  /** Pushes image `ref` to its registry (docker push). */
  push(ref: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor> {
    this.#check();
    return this.imageService.push(ref, options);
  }

  /** Reads an image archive into the store (docker load). */
  importImages(input: Readable, options: ImportArchiveOptions = {}): Promise<ImportArchiveResult> {
    this.#check();
    return this.imageService.load(input, options);
  }

  /** Writes images as an archive (docker save). */
  exportImages(refs: readonly string[], out: Writable, options: ExportArchiveOptions = {}): Promise<void> {
    this.#check();
    return this.imageService.save(refs, out, options);
  }

  /** Removes layers no image or container uses and collects the store's garbage (docker image prune). */
  pruneImages(options: { signal?: AbortSignal } = {}): Promise<ImageRemoval> {
    this.#check();
    return this.imageService.prune(options);
  }

  // Containers

  /** Creates a container (docker create): the image is pulled by `pull` (default 'missing'). Emits `create`. */
  create(image: string, options: EngineCreateOptions = {}): Promise<ContainerHandle> {
    return createContainer(this.#check(), this.#namespace, image, options);
  }

  /** Starts a created or exited container (docker start); a running one stays as it is. Emits `start`. */
  async start(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await startContainer(this.#check(), reference, options.signal);
  }

  /**
   * docker run. Attached (default): resolves once it exited with its code and output (from its log, stdout and
   * stderr apart); on abort it is stopped and the call rejects with `signal.reason`. `detach`: resolves with the
   * handle once started. `autoRemove` removes it on every path.
   */
  run(image: string, options: RunOptions & { detach: true }): Promise<ContainerHandle>;
  run(image: string, options?: RunOptions & { detach?: false }): Promise<RunResult>;
  run(image: string, options: RunOptions = {}): Promise<RunResult | ContainerHandle> {
    return runContainer(this.#check(), this.#namespace, image, options);
  }

  /** docker wait: `condition` default 'not-running'; resolves with the real exit code, also after a removal. */
  wait(reference: string, options: WaitOptions = {}): Promise<{ exitCode: number }> {
    return waitContainer(this.#check(), reference, options);
  }

  /** docker kill: sends `signal` (default SIGKILL, after which it waits for the exit). @throws ERR_FAILED_PRECONDITION when not running */
  kill(reference: string, signal: string | number = 'SIGKILL', options: { signal?: AbortSignal } = {}): Promise<void> {
    return killContainer(this.#check(), reference, signal, options.signal);
  }

  /** docker stop: the stop signal (the image's StopSignal, else SIGTERM), SIGKILL after `timeout` s (default 10). */
  stop(reference: string, options: StopOptions = {}): Promise<void> {
    return stopContainer(this.#check(), reference, options);
  }

  /** docker restart: stop (as `stop`), then start. */
  async restart(reference: string, options: StopOptions = {}): Promise<void> {
    const life = this.#check();
    await stopContainer(life, reference, options);
    await startContainer(life, reference, options.signal);
  }

  /** docker pause: freezes its processes. Emits `pause`. */
  pause(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return setPaused(this.#check(), reference, true, options.signal);
  }

  /** docker unpause. Emits `unpause`. */
  unpause(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return setPaused(this.#check(), reference, false, options.signal);
  }

  /** docker rename. Emits `rename`. @throws ERR_NAME_IN_USE; ERR_INVALID_CONTAINER_NAME */
  rename(reference: string, newName: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return renameContainer(this.#check(), reference, newName, options.signal);
  }

  /** docker update: changes its cgroup limits now and for its next starts. */
  update(reference: string, resources: UpdateResources, options: { signal?: AbortSignal } = {}): Promise<void> {
    return updateContainer(this.#check(), reference, resources, options.signal);
  }

  /**
   * docker rm: removes task, bundle, snapshot, record, name and log (a running one only with `force`, killed
   * first). Emits `destroy`. @throws ERR_FAILED_PRECONDITION for a running container without `force`
   */
  remove(reference: string, options: RemoveOptions = {}): Promise<void> {
    return removeContainer(this.#check(), reference, options.force === true, options.signal);
  }

  /** docker logs: its log lines (`follow` ends when it stops). */
  logs(reference: string, options: EngineLogsOptions = {}): AsyncGenerator<LogEntry> {
    return containerLogs(this.#check(), reference, options);
  }

  /** docker exec: runs `cmd` in the running container; resolves with exit code and output. Emits `exec_start`, `exec_die`. */
  exec(reference: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return execInContainer(this.#check(), reference, cmd, options);
  }

  /**
   * docker exec with the streams left to the caller (`stdin: true` gives it one; read stdout and stderr: a full
   * pipe blocks it); `wait()` resolves with its exit code. Emits `exec_start`, then `exec_die` at `wait()`.
   */
  execStream(reference: string, cmd: string[], options: ExecStreamOptions = {}): Promise<ExecStream> {
    return execStream(this.#check(), reference, cmd, options);
  }

  /**
   * docker attach's input side: the running container's stdin (created with `stdin`), terminal resize and EOF;
   * its output is `logs(reference, { follow: true })`. @throws ERR_FAILED_PRECONDITION when not running
   */
  attach(reference: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInput> {
    return attachContainer(this.#check(), reference, options.signal);
  }

  /** docker inspect (a subset). */
  async inspect(reference: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    const life = this.#check();
    return inspectRecord(life, await settledRecord(life, reference, options.signal));
  }

  /** docker ps: running containers (every one with `all`), newest first, filtered. */
  list(options: ListOptions = {}): Promise<ContainerSummary[]> {
    return listContainers(this.#check(), options);
  }

  /** docker top: its processes. @throws ERR_FAILED_PRECONDITION when not running */
  async top(reference: string, options: { signal?: AbortSignal } = {}): Promise<TopResult> {
    const { record, task } = await liveTask(this.#check(), reference, options.signal);
    if (task === undefined) throw notAllowed(record, 'is not running');
    return topOf(task, options.signal);
  }

  /** docker stats --no-stream: one reading of its cgroup. @throws ERR_FAILED_PRECONDITION when not running */
  async stats(reference: string, options: { signal?: AbortSignal } = {}): Promise<ContainerStats> {
    const { record, task } = await liveTask(this.#check(), reference, options.signal);
    if (task === undefined) throw notAllowed(record, 'is not running');
    return statsOf(task, record.state.pid, options.signal);
  }

  /** docker port: always empty, until containerkit has networking (containers run with `none` or `host`). */
  async port(reference: string, options: { signal?: AbortSignal } = {}): Promise<PortBinding[]> {
    await this.#check().store.resolve(reference, options);
    return [];
  }

  /** docker events: the root's persisted events (so other processes' too), then, with `follow` (default), new ones. */
  events(options: EngineEventsOptions = {}): AsyncGenerator<EngineEvent> {
    this.#check();
    const { follow = true, ...rest } = options;
    return this.eventsLog.read({ ...rest, follow });
  }
}
