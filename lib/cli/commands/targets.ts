import { newError } from '../../errors/index.js';
import type { Command } from '../command.js';
import { forEachTarget } from '../each-target.js';
import { withEngine } from '../engine.js';

// docker's verbs that act on each named container in turn and print each name (see forEachTarget).

function seconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw newError('ERR_INVALID_ARGUMENT', `${flag} must be a whole number of seconds`);
  return Number(value);
}

/** `containerkit stop [-t N] CONTAINER...`: the stop signal, SIGKILL after N seconds (default: the container's). */
export const stopCommand: Command = {
  name: 'stop',
  summary: 'Stop one or more running containers',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  options: { time: { type: 'string', short: 't' } },
  async run(ctx, args) {
    const timeout = seconds(args.values['time'], '--time');
    return withEngine(ctx, (engine) =>
      forEachTarget(ctx, 'stop', args.positionals, (ref) => engine.stop(ref, { ...(timeout === undefined ? {} : { timeout }), signal: ctx.signal })),
    );
  },
};

/** `containerkit restart [-t N] CONTAINER...`: stop as `stop`, then start. */
export const restartCommand: Command = {
  name: 'restart',
  summary: 'Restart one or more containers',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  options: { time: { type: 'string', short: 't' } },
  async run(ctx, args) {
    const timeout = seconds(args.values['time'], '--time');
    return withEngine(ctx, (engine) =>
      forEachTarget(ctx, 'restart', args.positionals, (ref) => engine.restart(ref, { ...(timeout === undefined ? {} : { timeout }), signal: ctx.signal })),
    );
  },
};

/** `containerkit kill [-s SIGNAL] CONTAINER...`: default SIGKILL. */
export const killCommand: Command = {
  name: 'kill',
  summary: 'Kill one or more running containers',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  options: { signal: { type: 'string', short: 's' } },
  async run(ctx, args) {
    const sig = typeof args.values['signal'] === 'string' ? args.values['signal'] : 'SIGKILL';
    // docker takes `KILL`, `SIGKILL` and `9` alike.
    const which = /^\d+$/.test(sig) ? Number(sig) : sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
    return withEngine(ctx, (engine) => forEachTarget(ctx, 'kill', args.positionals, (ref) => engine.kill(ref, which, { signal: ctx.signal })));
  },
};

/** `containerkit rm [-f] CONTAINER...`: a running one only with `-f` (killed first). */
export const rmCommand: Command = {
  name: 'rm',
  summary: 'Remove one or more containers',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  options: { force: { type: 'boolean', short: 'f' } },
  async run(ctx, args) {
    const force = args.values['force'] === true;
    return withEngine(ctx, (engine) => forEachTarget(ctx, 'rm', args.positionals, (ref) => engine.remove(ref, { force, signal: ctx.signal })));
  },
};

/** `containerkit pause CONTAINER...`: freezes every process. */
export const pauseCommand: Command = {
  name: 'pause',
  summary: 'Pause all processes within one or more containers',
  usage: 'pause CONTAINER [CONTAINER...]',
  options: {},
  async run(ctx, args) {
    return withEngine(ctx, (engine) => forEachTarget(ctx, 'pause', args.positionals, (ref) => engine.pause(ref, { signal: ctx.signal })));
  },
};

/** `containerkit unpause CONTAINER...`. */
export const unpauseCommand: Command = {
  name: 'unpause',
  summary: 'Unpause all processes within one or more containers',
  usage: 'unpause CONTAINER [CONTAINER...]',
  options: {},
  async run(ctx, args) {
    return withEngine(ctx, (engine) => forEachTarget(ctx, 'unpause', args.positionals, (ref) => engine.unpause(ref, { signal: ctx.signal })));
  },
};

/** `containerkit wait CONTAINER...`: prints each one's exit code once it stopped. */
export const waitCommand: Command = {
  name: 'wait',
  summary: 'Block until one or more containers stop, then print their exit codes',
  usage: 'wait CONTAINER [CONTAINER...]',
  options: {},
  async run(ctx, args) {
    return withEngine(ctx, (engine) =>
      forEachTarget(ctx, 'wait', args.positionals, async (ref) => String((await engine.wait(ref, { signal: ctx.signal })).exitCode)),
    );
  },
};

/** `containerkit rename CONTAINER NEW_NAME`. */
export const renameCommand: Command = {
  name: 'rename',
  summary: 'Rename a container',
  usage: 'rename CONTAINER NEW_NAME',
  options: {},
  async run(ctx, args) {
    const [ref, name, ...extra] = args.positionals;
    if (ref === undefined || name === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'rename takes exactly CONTAINER and NEW_NAME');
    await withEngine(ctx, (engine) => engine.rename(ref, name, { signal: ctx.signal }));
  },
};

/** `containerkit start [-a] [-i] CONTAINER...`: prints each; with `-a`, one container, attached (its exit code). */
export const startCommand: Command = {
  name: 'start',
  summary: 'Start one or more stopped containers',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  options: { attach: { type: 'boolean', short: 'a' }, interactive: { type: 'boolean', short: 'i' } },
  async run(ctx, args) {
    const attach = args.values['attach'] === true || args.values['interactive'] === true;
    if (!attach) return withEngine(ctx, (engine) => forEachTarget(ctx, 'start', args.positionals, (ref) => engine.start(ref, { signal: ctx.signal })));
    if (args.positionals.length !== 1) throw newError('ERR_INVALID_ARGUMENT', 'start -a takes exactly one container');
    const { runAttached } = await import('../attached.js');
    return withEngine(ctx, async (engine) => {
      const info = await engine.inspect(args.positionals[0]!, { signal: ctx.signal });
      return runAttached(ctx, engine, info.Id, { start: true, stdin: args.values['interactive'] === true && info.Config.OpenStdin, tty: info.Config.Tty });
    });
  },
};

/** `containerkit attach CONTAINER`: its output from now on (and stdin when it has one) until it stops; its exit code. */
export const attachCommand: Command = {
  name: 'attach',
  summary: "Attach the terminal's input and output to a running container",
  usage: 'attach [OPTIONS] CONTAINER',
  options: { 'no-stdin': { type: 'boolean' } },
  async run(ctx, args) {
    const [ref, ...extra] = args.positionals;
    if (ref === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'attach takes exactly one container');
    const { runAttached } = await import('../attached.js');
    return withEngine(ctx, async (engine) => {
      const info = await engine.inspect(ref, { signal: ctx.signal });
      if (!info.State.Running) throw newError('ERR_FAILED_PRECONDITION', `You cannot attach to a stopped container, start it first: ${ref}`);
      return runAttached(ctx, engine, info.Id, { start: false, stdin: args.values['no-stdin'] !== true && info.Config.OpenStdin, tty: info.Config.Tty });
    });
  },
};
