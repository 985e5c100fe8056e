import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { expect } from 'chai';
import type { ShimManager } from '../../../lib/shim/index.js';
import { ManagerFixture } from './manager-fixture.js';

// A liveness bound, not a speed check: a close that hangs never ends, one that works ends in milliseconds.
const CLOSE_BOUND_MS = 15_000;

async function closeWithin(manager: ShimManager, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: close() did not finish within ${CLOSE_BOUND_MS} ms`)), CLOSE_BOUND_MS);
  });
  try {
    await Promise.race([manager.close(), hung]);
  } finally {
    clearTimeout(timer);
  }
}

function keepFiles(fx: ManagerFixture): string[] {
  return readdirSync(fx.stateDir).filter((name) => name.includes('.keep'));
}

/** A peer that dials `path` again as soon as each connection is accepted or refused, until stopped. */
function reconnectingPeer(path: string): { stop(): void; connects(): number } {
  let stopped = false;
  let connects = 0;
  const live = new Set<Socket>();
  const dial = (): void => {
    if (stopped) return;
    const socket = createConnection({ path });
    live.add(socket);
    socket.on('connect', () => {
      connects++;
      setImmediate(dial);
    });
    socket.on('error', () => setTimeout(dial, 1));
    socket.on('close', () => live.delete(socket));
  };
  for (let i = 0; i < 4; i++) dial();
  return {
    stop() {
      stopped = true;
      for (const s of live) s.destroy();
    },
    connects: () => connects,
  };
}

describe('ShimManager.close: always finishes, whatever the shims do', function () {
  this.timeout(240_000);
  let fx: ManagerFixture;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  it('closes right after container.start() (the shim publishing its events), 10 times: no hang, no .keep file, socket file kept', async () => {
    const bundle = await fx.bundle('racer', ['sh', '-c', 'echo hi; sleep 30']);
    for (let i = 0; i < 10; i++) {
      const manager = await fx.manager();
      let container = manager.get('racer');
      if (container === undefined) {
        container = await manager.start('racer', bundle, { stdio: { stdout: 'log' } });
        await container.start();
      } else {
        // Reattached: make the shim publish again (exec added/started) while the manager closes.
        const exec = await container.exec(`e${i}`, { ...(await fx.process('racer')), args: ['true'] }, { stdio: { stdout: 'null' } });
        await exec.start();
      }
      await closeWithin(manager, `iteration ${i}`);
      expect(keepFiles(fx), `iteration ${i}`).to.deep.equal([]);
      // The dead socket file stays, so shims publishing while no manager runs fail at once.
      expect(lstatSync(fx.eventsSocket).isSocket(), `iteration ${i}: events.sock`).to.equal(true);
    }
    const last = await fx.manager();
    expect(fx.lastReport?.reattached).to.deep.equal(['racer']);
    await last.get('racer')!.remove({ force: true });
  });

  it('closes while a peer keeps reconnecting to events.sock', async () => {
    for (let i = 0; i < 10; i++) {
      const manager = await fx.manager();
      const peer = reconnectingPeer(fx.eventsSocket);
      try {
        while (peer.connects() < 20) await new Promise((r) => setTimeout(r, 1));
        await closeWithin(manager, `iteration ${i}`);
      } finally {
        peer.stop();
      }
      expect(keepFiles(fx), `iteration ${i}`).to.deep.equal([]);
      expect(lstatSync(fx.eventsSocket).isSocket(), `iteration ${i}: events.sock`).to.equal(true);
    }
  });

  it('removes a .keep link left by an engine that died while closing, and only that one', async () => {
    const dead = spawnSync('true').pid!;
    await mkdir(fx.stateDir, { recursive: true });
    const stale = `${fx.eventsSocket}.${dead}.keep`;
    const live = `${fx.eventsSocket}.1.keep`; // pid 1 is alive: maybe still closing
    await writeFile(stale, '');
    await writeFile(live, '');
    await fx.manager();
    expect(existsSync(stale), 'stale').to.equal(false);
    expect(existsSync(live), 'live owner').to.equal(true);
    await rm(live);
  });
});
