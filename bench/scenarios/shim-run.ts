/**
 * Scenario `shim-run`: start-to-exit of `/bin/true` in a container through a containerd shim, containerkit's
 * ShimManager (no containerd) against `ctr run --rm` on a running containerd, the same image, the same shim binary.
 *
 * Fairness rules:
 * - Same image: one busybox image built once; containerd imports and unpacks it (untimed, in setup), containerkit
 *   extracts the same layer blob once into a directory (its "unpacked image", untimed).
 * - Same per-run work, timed: containerd's ctr prepares an overlay snapshot, writes a bundle, starts a shim,
 *   creates, starts, waits, deletes, shuts the shim down and removes the snapshot and container. containerkit, in
 *   the same timed section, creates the bundle dir and an overlay upper/work dir, writes config.json, starts a shim
 *   with the overlay as the create-time rootfs mount (the shim mounts and unmounts it, as for containerd), starts,
 *   waits, deletes, shuts the shim down, waits for it to exit, and removes the bundle and overlay dirs.
 * - Process cost: containerkit is an in-process call (the SDK used as a library, its manager already open), the
 *   peer is the `ctr` process the issue names; that difference is what an engine built on the SDK gains.
 * - Each sample is {@link RUNS_PER_SIDE} runs in a row; verified after every pair that all exited 0 and that
 *   nothing is left (no ShimManager record, no ctr container).
 * - Also measured, once in setup: the RSS of one running container's helpers on each side (shim + logger for
 *   containerkit, shim for containerd), printed with the fairness notes.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShimManager } from '../../lib/shim/index.js';
import { runTool } from '../../lib/util/exec.js';
import { writeBusyboxBundle } from '../../test/fixtures/bundle.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { buildBusyboxImage } from '../../test/fixtures/images.js';
import { findShimPids } from '../../test/fixtures/shims.js';
import { checkAllExitedZero, ctrRunRmSide, RUNS_PER_SIDE, repeatRuns } from '../run-to-exit.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const IMAGE = 'bench.local/busybox:latest';

const rssKiB = async (pid: number): Promise<number> => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function loggerPids(stateDir: string): number[] {
  const out = spawnSync('pgrep', ['-f', `^${join(stateDir, 'bin', 'ck-shim-logger')}`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean).map(Number);
}

/** Creates the `shim-run` scenario. */
export function createShimRunScenario(): Scenario {
  let containerd: ContainerdFixture | undefined;
  let manager: ShimManager | undefined;
  let stateDir = '';
  let lower = '';
  let runs = '';
  let configTemplate = '';
  const fairness = [
    'containerkit: ShimManager.start (overlay rootfs mount made by the shim) → start → wait → remove, in the harness process, bundle and overlay dirs made and removed inside the timed section',
    `peer: ctr --address <containerd> run --rm ${IMAGE} <id> /bin/true (snapshot, bundle, shim, delete: all inside ctr/containerd)`,
    'same image (one busybox layer; containerd imported and unpacked it in setup, containerkit extracted the same blob in setup), same containerd-shim-runc-v2 and runc',
    `each sample is ${RUNS_PER_SIDE} containers in a row; verified after every pair: all exited 0, no record or container left on either side`,
  ];
  const id = (side: Side, pair: PairContext, k: number): string => `shimrun-${side === 'containerkit' ? 'ck' : 'ctr'}-${pair.index}-${k}`;

  async function ckRun(name: string, signal: AbortSignal): Promise<string> {
    const bundle = join(runs, name);
    const snap = join(runs, `.${name}-snap`);
    await mkdir(join(bundle, 'rootfs'), { recursive: true });
    await mkdir(join(snap, 'upper'), { recursive: true });
    await mkdir(join(snap, 'work'));
    await writeFile(join(bundle, 'config.json'), configTemplate);
    const c = await manager!.start(name, bundle, {
      signal,
      stdio: { stdout: 'null' },
      rootfs: [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${join(snap, 'upper')}`, `workdir=${join(snap, 'work')}`] }],
    });
    await c.start({ signal });
    const exit = await c.wait({ signal });
    await c.remove({ signal });
    await rm(bundle, { recursive: true, force: true });
    await rm(snap, { recursive: true, force: true });
    return `exit ${exit.code}`;
  }

  return {
    name: 'shim-run',
    description: `start-to-exit of /bin/true through containerd-shim-runc-v2: ShimManager in-process vs ctr run --rm on containerd, ${RUNS_PER_SIDE} containers in a row per sample`,
    fairness,

    async setup(ctx: BenchContext): Promise<void> {
      containerd = await startContainerd({ signal: ctx.signal });
      const image = await buildBusyboxImage(join(ctx.workDir, 'image'));
      const archive = join(ctx.workDir, 'image.tar');
      await runTool('tar', ['-C', image.layoutDir, '-cf', archive, '.']);
      await containerd.ctr(['images', 'import', '--base-name', 'bench.local/busybox', archive], { signal: ctx.signal });
      lower = join(ctx.workDir, 'unpacked');
      await mkdir(lower);
      await runTool('tar', ['-C', lower, '-xzf', join(image.layoutDir, 'blobs', 'sha256', image.layers[0]!.digest.slice('sha256:'.length))]);
      // config.json of `runc spec` for /bin/true with a relative root: the shim mounts the overlay onto rootfs/.
      const specDir = join(ctx.workDir, 'spec');
      await writeBusyboxBundle(specDir, { args: ['/bin/true'] });
      const spec = JSON.parse(await readFile(join(specDir, 'config.json'), 'utf8'));
      spec.root = { path: 'rootfs', readonly: false };
      configTemplate = JSON.stringify(spec);
      runs = join(ctx.workDir, 'runs');
      await mkdir(runs);
      stateDir = join(ctx.workDir, 'state');
      manager = await ShimManager.open({ stateDir, namespace: 'bench-shim-run' }, { signal: ctx.signal });

      // RSS of one running container's helpers on each side.
      const sleeper = join(runs, 'rss-probe');
      await mkdir(join(sleeper, 'rootfs'), { recursive: true });
      await mkdir(join(runs, '.rss-snap', 'upper'), { recursive: true });
      await mkdir(join(runs, '.rss-snap', 'work'));
      await writeFile(
        join(sleeper, 'config.json'),
        JSON.stringify({ ...spec, process: { ...spec.process, args: ['sh', '-c', 'while true; do echo x; sleep 1; done'] } }),
      );
      const probe = await manager.start('rss-probe', sleeper, {
        stdio: { stdout: 'log' },
        rootfs: [
          {
            type: 'overlay',
            source: 'overlay',
            options: [`lowerdir=${lower}`, `upperdir=${join(runs, '.rss-snap', 'upper')}`, `workdir=${join(runs, '.rss-snap', 'work')}`],
          },
        ],
      });
      await probe.start();
      await new Promise((r) => setTimeout(r, 1000));
      const ckShim = await rssKiB(probe.shimPid);
      const ckLogger = (await Promise.all(loggerPids(stateDir).map(rssKiB))).reduce((a, b) => a + b, 0);
      await probe.kill('SIGKILL');
      await probe.wait();
      await probe.remove();
      await rm(sleeper, { recursive: true, force: true });
      await rm(join(runs, '.rss-snap'), { recursive: true, force: true });
      await containerd.ctr(['run', '-d', IMAGE, 'rss-probe', 'sleep', '60']);
      await new Promise((r) => setTimeout(r, 1000));
      const ctrShim = (await Promise.all(findShimPids(containerd.address).map(rssKiB))).reduce((a, b) => a + b, 0);
      await containerd.ctr(['task', 'kill', '-s', 'SIGKILL', 'rss-probe']).catch(() => '');
      for (let i = 0; i < 50; i++) {
        const listed = await containerd.ctr(['task', 'ls', '-q']).catch(() => '');
        if (!listed.includes('rss-probe')) break;
        if (
          await containerd.ctr(['task', 'delete', 'rss-probe']).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await containerd.ctr(['container', 'delete', 'rss-probe']).catch(() => '');
      fairness.push(
        `RSS per running container (measured in setup): containerkit shim ${ckShim} KiB + logger ${ckLogger} KiB = ${ckShim + ckLogger} KiB; containerd shim ${ctrShim} KiB (containerd itself not counted)`,
      );
    },

    async prepare(): Promise<void> {
      // Nothing to reset: each run removes its own container on both sides, which verify checks.
    },

    containerkit(pair: PairContext): SideCommand {
      return { kind: 'in-process', run: (signal: AbortSignal) => repeatRuns((k) => ckRun(id('containerkit', pair, k), signal)) };
    },

    peer: (pair: PairContext): SideCommand =>
      ctrRunRmSide(
        () => containerd!,
        IMAGE,
        (k) => id('peer', pair, k),
      ),

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      checkAllExitedZero(pair, results);
      if (manager!.list().length > 0)
        throw new ScenarioFailure(
          `ShimManager still holds ${manager!
            .list()
            .map((c) => c.id)
            .join(', ')}`,
        );
      const left = (await containerd!.ctr(['container', 'ls', '-q'])).trim();
      if (left !== '') throw new ScenarioFailure(`ctr containers left: ${left}`);
    },

    async teardown(): Promise<void> {
      if (manager !== undefined) {
        for (const c of manager.list()) await c.remove({ force: true }).catch(() => undefined);
        await manager.close();
      }
      await containerd?.stop();
    },
  };
}
