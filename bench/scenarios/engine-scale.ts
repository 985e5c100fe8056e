/**
 * Scenarios `engine-scale` and `engine-scale-teardown`: 50 containers running `sleep 60`, started detached 10 at a
 * time, through the Engine (in-process, daemonless) against `ctr run -d` on a running containerd; and, timed
 * apart, their teardown (Engine.remove with force vs ctr task kill + task delete + container delete, 10 at a time).
 *
 * Fairness rules:
 * - Same image (one busybox image, unpacked on both sides in setup), same shim binary and runc.
 * - Scale-up is done when all 50 are running per their shims' state: the Engine's `run` with `detach` resolves once
 *   the task started (the shim answered Start), as `ctr run -d` does.
 * - Teardown: each side kills and removes what it started, with no container, task, snapshot or shim left.
 * - The Engine is an in-process call (the SDK as a library, already open); the peer is 50 `ctr` processes.
 * - Memory, measured once in setup: the idle RSS of a fresh Node process holding an Engine with 10 images and 10
 *   running containers after a 10 s settle, and the RSS of each container's shim + logger, printed with these notes
 *   beside containerd's shim.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../lib/engine/engine.js';
import { buildImage } from '../../lib/images/index.js';
import { RegistryClient } from '../../lib/registry/index.js';
import { runTool } from '../../lib/util/exec.js';
import { writeBusyboxBundle } from '../../test/fixtures/bundle.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { withPushedImages } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { findShimPids } from '../../test/fixtures/shims.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const COUNT = 50;
const AT_ONCE = 10;
const CTR_IMAGE = 'bench.local/busybox:latest';

async function inBatches(count: number, work: (k: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += AT_ONCE) {
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, count - start) }, (_, i) => work(start + i)));
  }
}

const rssKiB = async (pid: number): Promise<number> => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

interface Shared {
  containerd?: ContainerdFixture;
  registry?: RegistryFixture;
  client?: RegistryClient;
  engine?: Engine;
  image: string;
}

async function setupShared(ctx: BenchContext, shared: Shared): Promise<void> {
  [shared.containerd, shared.registry] = await Promise.all([startContainerd({ signal: ctx.signal }), startRegistry()]);
  const pushed = await withPushedImages(shared.registry);
  shared.image = pushed.busybox.reference;
  const archive = join(ctx.workDir, 'image.tar');
  await runTool('tar', ['-C', pushed.busybox.image.layoutDir, '-cf', archive, '.']);
  await shared.containerd.ctr(['images', 'import', '--base-name', 'bench.local/busybox', archive], { signal: ctx.signal });
  await shared.containerd.ctr(['run', '--rm', CTR_IMAGE, 'warm', '/bin/true']);
  shared.client = new RegistryClient();
  shared.engine = await Engine.open({ root: join(ctx.workDir, 'engine'), registry: shared.client, signal: ctx.signal });
  await shared.engine.pull(shared.image, { signal: ctx.signal });
}

async function ckUp(shared: Shared, tag: string, signal: AbortSignal): Promise<string> {
  await inBatches(COUNT, async (k) => {
    await shared.engine!.run(shared.image, { name: `${tag}-${k}`, cmd: ['sleep', '60'], detach: true, pull: 'never', signal });
  });
  const running = (await shared.engine!.list({ signal })).length;
  return `running ${running}`;
}

async function ckDown(shared: Shared, signal: AbortSignal): Promise<string> {
  const all = await shared.engine!.list({ all: true, signal });
  await inBatches(all.length, async (k) => shared.engine!.remove(all[k]!.Id, { force: true, signal }));
  return `left ${(await shared.engine!.list({ all: true, signal })).length}`;
}

async function ctrUp(shared: Shared, tag: string, signal: AbortSignal): Promise<string> {
  await inBatches(COUNT, async (k) => {
    await shared.containerd!.ctr(['run', '-d', CTR_IMAGE, `${tag}-${k}`, 'sleep', '60'], { signal });
  });
  const running = (await shared.containerd!.ctr(['task', 'ls'], { signal })).split('\n').filter((l) => /\bRUNNING\b/.test(l)).length;
  return `running ${running}`;
}

async function ctrDown(shared: Shared, signal: AbortSignal): Promise<string> {
  const ids = (await shared.containerd!.ctr(['container', 'ls', '-q'], { signal })).split('\n').filter(Boolean);
  await inBatches(ids.length, async (k) => {
    const id = ids[k]!;
    await shared.containerd!.ctr(['task', 'kill', '-s', 'SIGKILL', id], { signal }).catch(() => '');
    for (let i = 0; i < 100; i++) {
      if (
        await shared.containerd!.ctr(['task', 'delete', id], { signal }).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await shared.containerd!.ctr(['container', 'delete', id], { signal });
  });
  return `left ${(await shared.containerd!.ctr(['container', 'ls', '-q'], { signal })).split('\n').filter(Boolean).length}`;
}

async function teardownShared(shared: Shared): Promise<void> {
  const signal = new AbortController().signal;
  if (shared.engine !== undefined) {
    await ckDown(shared, signal).catch(() => undefined);
    await shared.engine.close();
  }
  if (shared.containerd !== undefined) await ctrDown(shared, signal).catch(() => undefined);
  shared.client?.close();
  await shared.registry?.stop();
  await shared.containerd?.stop();
}

/** Memory of an idle Engine process with 10 images and 10 running containers, and of the helpers per container. */
async function measureMemory(ctx: BenchContext, shared: Shared, fairness: string[]): Promise<void> {
  const root = join(ctx.workDir, 'engine-memory');
  const seed = await Engine.open({ root, registry: shared.client, signal: ctx.signal });
  try {
    await seed.pull(shared.image, { signal: ctx.signal });
    const rootfs = join(ctx.workDir, 'memory-image');
    await writeBusyboxBundle(rootfs);
    for (let i = 1; i < 10; i++) {
      await buildImage(seed.imageService.store, `bench.local/image-${i}:latest`, {
        layers: [{ directory: join(rootfs, 'rootfs') }],
        config: { Cmd: ['sh'], Labels: { n: String(i) } },
      });
    }
  } finally {
    await seed.close();
  }
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ctx.repoRoot, 'bench', 'children', 'engine-idle.mjs'), root, shared.image, '10', '10000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new ScenarioFailure(`engine-idle exited ${code}`))));
  });
  const probe = JSON.parse(out) as { engineKiB: number; images: number; containers: number; helpers: Array<{ shimKiB: number; loggerKiB: number }> };
  const after = await Engine.open({ root, signal: ctx.signal });
  for (const c of await after.list({ all: true })) await after.remove(c.Id, { force: true });
  await after.close();
  const perShim = probe.helpers.reduce((a, h) => a + h.shimKiB, 0) / probe.helpers.length;
  const perLogger = probe.helpers.reduce((a, h) => a + h.loggerKiB, 0) / probe.helpers.length;
  const verdict = probe.engineKiB <= 80 * 1024 ? 'met' : 'NOT met';
  fairness.push(
    `memory (setup): an idle Engine process holding ${probe.images} images and ${probe.containers} running containers, after a 10 s settle: ${mib(probe.engineKiB)} RSS (target ≤ 80 MB: ${verdict})`,
  );
  await shared.containerd!.ctr(['run', '-d', CTR_IMAGE, 'rss-probe', 'sleep', '60']);
  await new Promise((r) => setTimeout(r, 1000));
  const ctrShim = (await Promise.all(findShimPids(shared.containerd!.address).map(rssKiB))).reduce((a, b) => a + b, 0);
  await ctrDown(shared, ctx.signal);
  fairness.push(
    `memory per running container: containerkit shim ${mib(perShim)} + logger ${mib(perLogger)}; containerd's shim ${mib(ctrShim)} (podman's conmon is not measured yet)`,
  );
}

/** Creates the `engine-scale` scenario (scale-up timed). */
export function createEngineScaleScenario(): Scenario {
  const shared: Shared = { image: '' };
  const fairness = [
    `containerkit: Engine.run(image, { cmd: ['sleep', '60'], detach: true }) ×${COUNT}, ${AT_ONCE} at a time, in-process`,
    `peer: ctr run -d ${CTR_IMAGE} <id> sleep 60 ×${COUNT}, ${AT_ONCE} processes at a time`,
    `done when all ${COUNT} run (shim state); teardown is untimed here (see engine-scale-teardown); verified: ${COUNT} running on each side`,
  ];
  return {
    name: 'engine-scale',
    description: `${COUNT} containers sleep 60 started detached, ${AT_ONCE} at a time: Engine (in-process) vs ctr run -d`,
    fairness,
    async setup(ctx) {
      await setupShared(ctx, shared);
      await measureMemory(ctx, shared, fairness);
    },
    async prepare() {},
    containerkit: (pair: PairContext): SideCommand => ({ kind: 'in-process', run: (signal) => ckUp(shared, `scale-${pair.index}`, signal) }),
    peer: (pair: PairContext): SideCommand => ({ kind: 'in-process', run: (signal) => ctrUp(shared, `scale-${pair.index}`, signal) }),
    async verify(_pair: PairContext, results: Record<Side, SideResult>) {
      const signal = new AbortController().signal;
      const [ck, ctr] = [await ckDown(shared, signal), await ctrDown(shared, signal)];
      for (const side of ['containerkit', 'peer'] as const) {
        if (results[side].stdout !== `running ${COUNT}`) throw new ScenarioFailure(`${side}: ${results[side].stdout}, not running ${COUNT}`);
      }
      if (ck !== 'left 0' || ctr !== 'left 0') throw new ScenarioFailure(`teardown left containers: containerkit ${ck}, ctr ${ctr}`);
    },
    teardown: () => teardownShared(shared),
  };
}

/** Creates the `engine-scale-teardown` scenario (teardown timed; the scale-up before each side is not). */
export function createEngineScaleTeardownScenario(): Scenario {
  const shared: Shared = { image: '' };
  return {
    name: 'engine-scale-teardown',
    description: `teardown of ${COUNT} running containers, ${AT_ONCE} at a time: Engine.remove({ force }) (in-process) vs ctr task kill + task delete + container delete`,
    fairness: [
      `before each side (untimed): ${COUNT} containers running sleep 60 on that side, started as in engine-scale`,
      `containerkit: Engine.remove(id, { force: true }) ×${COUNT}, ${AT_ONCE} at a time (SIGKILL, wait, task, bundle, snapshot, record, name)`,
      `peer: ctr task kill -s SIGKILL, ctr task delete, ctr container delete (snapshot too) per container, ${AT_ONCE} at a time`,
      'verified: nothing left on either side',
    ],
    setup: (ctx) => setupShared(ctx, shared),
    async prepare() {},
    async beforeSide(side: Side, pair: PairContext) {
      const signal = new AbortController().signal;
      const up = side === 'containerkit' ? await ckUp(shared, `down-${pair.index}`, signal) : await ctrUp(shared, `down-${pair.index}`, signal);
      if (up !== `running ${COUNT}`) throw new ScenarioFailure(`${side} before teardown: ${up}`);
    },
    containerkit: (): SideCommand => ({ kind: 'in-process', run: (signal) => ckDown(shared, signal) }),
    peer: (): SideCommand => ({ kind: 'in-process', run: (signal) => ctrDown(shared, signal) }),
    async verify(_pair: PairContext, results: Record<Side, SideResult>) {
      for (const side of ['containerkit', 'peer'] as const) {
        if (results[side].stdout !== 'left 0') throw new ScenarioFailure(`${side}: ${results[side].stdout}`);
      }
    },
    teardown: () => teardownShared(shared),
  };
}
