/**
 * A ShimManager in its own process, driven by JSON lines on stdin (`{ seq, op, ... }`), answering one JSON line per
 * command on stdout (`{ seq, ok: true, result }` or `{ seq, ok: false, code, message }`). It prints `{ ready: true }`
 * once loaded, so a test can start several and send their commands at the same moment. Ops: `open` (manager
 * options), `start` (id, bundle, stdout), `load` (id), `loadAll`, `wait` (id), `status` (id), `remove` (id, force),
 * `close`.
 */
import { createInterface } from 'node:readline';
import type { OutputTarget } from '../../../../lib/oci/index.js';
import { type ShimContainer, ShimManager, type ShimManagerOptions } from '../../../../lib/shim/index.js';

interface Command {
  seq: number;
  op: string;
  options?: ShimManagerOptions;
  id?: string;
  bundle?: string;
  stdout?: OutputTarget;
  force?: boolean;
}

let manager: ShimManager | undefined;

async function held(id: string): Promise<ShimContainer> {
  const container = manager!.get(id) ?? (await manager!.load(id));
  if (container === undefined) throw Object.assign(new Error(`no container ${id}`), { code: 'TEST_NO_CONTAINER' });
  return container;
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'open': {
      manager = await ShimManager.open(command.options!);
      return { report: manager.reattachReport, servesEvents: manager.servesEvents, pid: process.pid };
    }
    case 'start': {
      const container = await manager!.start(command.id!, command.bundle!, { stdio: { stdout: command.stdout ?? 'null' } });
      return { pid: await container.start(), shimPid: container.shimPid };
    }
    case 'load':
      return { found: (await manager!.load(command.id!)) !== undefined };
    case 'loadAll': {
      const { containers, report } = await manager!.loadAll();
      return { ids: containers.map((c) => c.id).sort(), report };
    }
    case 'wait': {
      const exit = await (await held(command.id!)).wait();
      return { code: exit.code, exitedAt: exit.exitedAt?.toISOString() };
    }
    case 'status':
      return (await held(command.id!)).status();
    case 'remove': {
      const ended = await (await held(command.id!)).remove({ force: command.force === true });
      return { code: ended?.code };
    }
    case 'close':
      await manager?.close();
      return {};
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const command = JSON.parse(line) as Command;
  // Commands run concurrently (a wait must not hold up the next command); answers carry their seq.
  run(command).then(
    (result) => process.stdout.write(`${JSON.stringify({ seq: command.seq, ok: true, result })}\n`),
    (err: Error & { code?: string }) => process.stdout.write(`${JSON.stringify({ seq: command.seq, ok: false, code: err.code, message: err.message })}\n`),
  );
}
