import { open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode, newError } from '../errors/index.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { logger, withLock } from '../util/index.js';
import { makeDirs } from '../util/make-dirs.js';
import { rotatingLines } from './line-files.js';

const log = logger('engine:events');

/** What an event is about, as docker's `Type`. */
export type EngineEventType = 'container' | 'image';

/** What happened, as docker's `Action`. */
export type EngineEventAction =
  | 'create'
  | 'start'
  | 'die'
  | 'oom'
  | 'pause'
  | 'unpause'
  | 'rename'
  | 'destroy'
  | 'pull'
  | 'tag'
  | 'untag'
  | 'delete'
  | 'exec_start'
  | 'exec_die';

const TYPES: readonly string[] = ['container', 'image'] satisfies EngineEventType[];
const ACTIONS: readonly string[] = [
  'create',
  'start',
  'die',
  'oom',
  'pause',
  'unpause',
  'rename',
  'destroy',
  'pull',
  'tag',
  'untag',
  'delete',
  'exec_start',
  'exec_die',
] satisfies EngineEventAction[];

/** Who the event is about: a container id or an image reference, with string attributes (name, image, exitCode…). */
export interface EngineEventActor {
  ID: string;
  Attributes: Record<string, string>;
}

/** One engine event, shaped like the Docker Engine API's `/events` messages. */
export interface EngineEvent {
  Type: EngineEventType;
  Action: EngineEventAction;
  Actor: EngineEventActor;
  scope: 'local';
  /** Unix time in seconds. */
  time: number;
  /** Unix time in nanoseconds (a float beyond 2^53: precise to a few hundred ns). */
  timeNano: number;
}

/** What {@link EventsLog.append} is given; the time is added. */
export interface NewEngineEvent {
  Type: EngineEventType;
  Action: EngineEventAction;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/** Options of {@link EventsLog.open}. */
export interface EventsLogOptions {
  /** Size at which `events.jsonl` is rotated to `events.jsonl.1` (the older one is dropped), in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** How often a follower looks for new events, in ms. Default 200. */
  pollMs?: number;
}

/** Options of {@link EventsLog.read}. */
export interface ReadEventsOptions {
  /** Only events at or after this time. */
  since?: Date;
  /** Only events at or before this time; a follower ends once it is past. */
  until?: Date;
  /** After the stored events, wait for new ones (from any process) until `signal` aborts or `until` passes. */
  follow?: boolean;
  signal?: AbortSignal;
}

// One write(2) of at most PIPE_BUF bytes: appends from several processes never interleave.
const MAX_LINE = 4096;
const ATTRIBUTE_MAX = 256;

function line(event: EngineEvent): string {
  let text = `${JSON.stringify(event)}\n`;
  if (Buffer.byteLength(text) <= MAX_LINE) return text;
  // Too long (labels, long names): keep every key, cut values; then keep only the keys docker always sends.
  const cut = Object.fromEntries(Object.entries(event.Actor.Attributes).map(([k, v]) => [k.slice(0, 64), v.slice(0, ATTRIBUTE_MAX)]));
  text = `${JSON.stringify({ ...event, Actor: { ID: event.Actor.ID, Attributes: cut } })}\n`;
  if (Buffer.byteLength(text) <= MAX_LINE) return text;
  const keep = Object.fromEntries(['name', 'image', 'exitCode', 'signal'].filter((k) => Object.hasOwn(cut, k)).map((k) => [k, cut[k]!]));
  return `${JSON.stringify({ ...event, Actor: { ID: event.Actor.ID.slice(0, 512), Attributes: keep } })}\n`;
}

/** The event on one line of the log, or undefined for a hostile, torn or foreign line. Pure. */
export function parseEventLine(text: string): EngineEvent | undefined {
  let v: Partial<EngineEvent>;
  try {
    v = JSON.parse(text) as Partial<EngineEvent>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || !TYPES.includes(v.Type as string) || !ACTIONS.includes(v.Action as string)) return undefined;
  if (!Number.isFinite(v.time) || !Number.isFinite(v.timeNano)) return undefined;
  const actor = v.Actor as Partial<EngineEventActor> | undefined;
  if (typeof actor !== 'object' || actor === null || typeof actor.ID !== 'string') return undefined;
  const attrs = typeof actor.Attributes === 'object' && actor.Attributes !== null ? actor.Attributes : {};
  // fromEntries defines own properties, so a `__proto__` key stays data.
  const Attributes = Object.fromEntries(Object.entries(attrs).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { Type: v.Type!, Action: v.Action!, Actor: { ID: actor.ID, Attributes }, scope: 'local', time: v.time!, timeNano: v.timeNano! };
}

/**
 * A root's engine events, persisted as JSON lines in `<root>/events/events.jsonl` (rotated once to `.1` at
 * `maxBytes`), so that `containerkit events` in one process sees what another did. Appends are single O_APPEND
 * writes of at most PIPE_BUF bytes and never interleave; rotation is serialised by `<root>/locks/events.lock`.
 */
export class EventsLog {
  readonly path: string;
  readonly #lockPath: string;
  readonly #maxBytes: number;
  readonly #pollMs: number;

  private constructor(root: string, maxBytes: number, pollMs: number) {
    this.path = join(root, 'events', 'events.jsonl');
    this.#lockPath = join(root, 'locks', 'events.lock');
    this.#maxBytes = maxBytes;
    this.#pollMs = pollMs;
  }

  /**
   * Opens the events log of `root`, creating its directories.
   * @throws ERR_INVALID_ARGUMENT for a relative root or a bad option; ERR_IO.
   */
  static async open(root: string, options: EventsLogOptions = {}): Promise<EventsLog> {
    if (typeof root !== 'string' || !root.startsWith('/')) throw newError('ERR_INVALID_ARGUMENT', 'root must be an absolute path');
    const { maxBytes = 1 << 20, pollMs = 200 } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < MAX_LINE) throw newError('ERR_INVALID_ARGUMENT', `options.maxBytes must be an integer >= ${MAX_LINE}`);
    if (!(Number.isFinite(pollMs) && pollMs > 0)) throw newError('ERR_INVALID_ARGUMENT', 'options.pollMs must be a number > 0');
    await makeDirs(join(root, 'events'), 0o711);
    await makeDirs(join(root, 'locks'), 0o711);
    return new EventsLog(root, maxBytes, pollMs);
  }

  /**
   * Stamps `event` with the current time and appends it. An event whose line would exceed 4096 bytes has its
   * attribute values cut (then all but name, image, exitCode and signal dropped).
   * @throws ERR_INVALID_ARGUMENT for an unknown Type or Action, or a non-string attribute; ERR_IO.
   */
  async append(event: NewEngineEvent): Promise<EngineEvent> {
    const { Type, Action, Actor } = event;
    if (!TYPES.includes(Type) || !ACTIONS.includes(Action)) throw newError('ERR_INVALID_ARGUMENT', `unknown event ${String(Type)} ${String(Action)}`);
    const attributes = Actor?.Attributes ?? {};
    if (typeof Actor?.ID !== 'string' || Object.values(attributes).some((v) => typeof v !== 'string')) {
      throw newError('ERR_INVALID_ARGUMENT', 'event Actor.ID and every Actor.Attributes value must be strings');
    }
    const timeNano = Math.floor((performance.timeOrigin + performance.now()) * 1e6);
    const stamped: EngineEvent = {
      Type,
      Action,
      Actor: { ID: Actor.ID, Attributes: { ...attributes } },
      scope: 'local',
      time: Math.floor(timeNano / 1e9),
      timeNano,
    };
    const bytes = Buffer.from(line(stamped));
    let size: number;
    const fh = await open(this.path, 'a', 0o644).catch((err: unknown) => {
      throw fsError(err, 'open', this.path);
    });
    try {
      const { bytesWritten } = await fh.write(bytes, 0, bytes.length);
      if (bytesWritten !== bytes.length) log('short append to %s (%d of %d bytes): the line is torn', this.path, bytesWritten, bytes.length);
      size = (await fh.stat()).size;
    } catch (err) {
      throw fsError(err, 'append to', this.path);
    } finally {
      await fh.close();
    }
    if (size > this.#maxBytes) await this.#rotate();
    return stamped;
  }

  /** Moves the full log aside; whoever holds the lock re-checks the size, so one rotation happens per fill. */
  async #rotate(): Promise<void> {
    try {
      await withLock(
        this.#lockPath,
        async () => {
          const size = await stat(this.path).then(
            (s) => s.size,
            (err: unknown) => (errnoOf(err) === 'ENOENT' ? 0 : Promise.reject(fsError(err, 'stat', this.path))),
          );
          if (size > this.#maxBytes) await rename(this.path, `${this.path}.1`);
        },
        { timeoutMs: 2000 },
      );
    } catch (err) {
      // Another process is rotating (or stuck holding the lock): the log grows a little past its cap meanwhile.
      if (!hasCode(err, 'ERR_LOCK_TIMEOUT')) throw err;
      log('skipped a rotation of %s: %s', this.path, (err as Error).message);
    }
  }

  /**
   * The stored events, oldest first, filtered by `since`/`until`; with `follow`, then new ones as any process
   * appends them, until `signal` aborts or `until` passes (the iteration then just ends). Lines that do not parse
   * as events are skipped.
   * @throws ERR_INVALID_ARGUMENT for a bad option; ERR_IO. Without `follow`, an abort rejects with `signal.reason`.
   */
  async *read(options: ReadEventsOptions = {}): AsyncGenerator<EngineEvent> {
    const { since, until, follow = false, signal } = options;
    for (const [key, value] of [
      ['since', since],
      ['until', until],
    ] as const) {
      if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime())))
        throw newError('ERR_INVALID_ARGUMENT', `options.${key} must be a valid Date`);
    }
    const sinceNs = since === undefined ? -Infinity : since.getTime() * 1e6;
    const untilNs = until === undefined ? Infinity : until.getTime() * 1e6 + 999_999;
    const lines = rotatingLines(this.path, {
      from: 'start',
      follow,
      pollMs: this.#pollMs,
      maxLineBytes: MAX_LINE,
      signal,
      shouldStop: until === undefined ? undefined : () => Date.now() > until.getTime(),
    });
    for await (const text of lines) {
      const event = parseEventLine(text);
      if (event === undefined) continue;
      if (event.timeNano < sinceNs) continue;
      if (event.timeNano > untilNs) {
        if (follow) return;
        continue;
      }
      yield event;
    }
  }
}
