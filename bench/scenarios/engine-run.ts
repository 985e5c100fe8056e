/**
 * Scenario `engine-run`: start-to-exit of `/bin/true` through the Engine (`Engine.run` in-process, attached, with
 * `autoRemove`) against `ctr run --rm` on a running containerd, the same image, the same shim binary and runc.
 *
 * Fairness rules:
 * - Same image: one busybox image, pushed to a private registry; containerd imports it from an archive and the
 *   Engine pulls it (both untimed, in setup), so both sides start from an unpacked image.
 * - Same per-run work, timed: a container record, a writable overlay snapshot on the image, a spec and bundle, a
 *   shim, create, start, wait for the exit, delete, shim shutdown, snapshot and record removed. The Engine also
 *   writes its record, events, hosts/resolv.conf files and the container's log, as dockerd does.
 * - Process cost: the Engine is an in-process call (the SDK used as a library, the Engine already open), the peer
 *   is the `ctr` process: that difference is what an engine built on the SDK gains. `cli-run` compares processes.
 * - Each sample is {@link RUNS_PER_SIDE} runs in a row; verified after every pair that all exited 0 and that nothing
 *   is left (no Engine container, no ctr container).
 */
import { join } from 'node:path';
import { Engine } from '../../lib/engine/engine.js';
import { RegistryClient } from '../../lib/registry/index.js';
import { runTool } from '../../lib/util/exec.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { withPushedImages } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { checkAllExitedZero, ctrRunRmSide, RUNS_PER_SIDE, repeatRuns } from '../run-to-exit.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const CTR_IMAGE = 'bench.local/busybox:latest';

/** Creates the `engine-run` scenario. */
export function createEngineRunScenario(): Scenario {
  let containerd: ContainerdFixture | undefined;
  let registry: RegistryFixture | undefined;
  let client: RegistryClient | undefined;
  let engine: Engine | undefined;
  let image = '';
  const fairness = [
    `containerkit: Engine.run(image, { cmd: ['/bin/true'], autoRemove: true, pull: 'never' }) attached, in the harness process (record, snapshot, spec, bundle, shim, runc, exit recorded, everything removed)`,
    `peer: ctr --address <containerd> run --rm ${CTR_IMAGE} <id> /bin/true`,
    'same busybox image (unpacked on both sides in setup), same containerd-shim-runc-v2 and runc',
    `each sample is ${RUNS_PER_SIDE} containers in a row; verified after every pair: all exited 0, nothing left on either side`,
  ];
  const id = (side: Side, pair: PairContext, k: number): string => `enginerun-${side === 'containerkit' ? 'ck' : 'ctr'}-${pair.index}-${k}`;

  return {
    name: 'engine-run',
    description: `start-to-exit of /bin/true: Engine.run (attached, autoRemove) in-process vs ctr run --rm, ${RUNS_PER_SIDE} containers in a row per sample`,
    fairness,

    async setup(ctx: BenchContext): Promise<void> {
      [containerd, registry] = await Promise.all([startContainerd({ signal: ctx.signal }), startRegistry()]);
      const pushed = await withPushedImages(registry);
      image = pushed.busybox.reference;
      const archive = join(ctx.workDir, 'image.tar');
      await runTool('tar', ['-C', pushed.busybox.image.layoutDir, '-cf', archive, '.']);
      await containerd.ctr(['images', 'import', '--base-name', 'bench.local/busybox', archive], { signal: ctx.signal });
      client = new RegistryClient();
      engine = await Engine.open({ root: join(ctx.workDir, 'engine'), registry: client, signal: ctx.signal });
      await engine.pull(image, { signal: ctx.signal });
    },

    async prepare(): Promise<void> {
      // Each run removes its own container on both sides, which verify checks.
    },

    containerkit(pair: PairContext): SideCommand {
      return {
        kind: 'in-process',
        run: (signal: AbortSignal) =>
          repeatRuns(async (k) => {
            const result = await engine!.run(image, { name: id('containerkit', pair, k), cmd: ['/bin/true'], autoRemove: true, pull: 'never', signal });
            return `exit ${result.exitCode}`;
          }),
      };
    },

    peer: (pair: PairContext): SideCommand =>
      ctrRunRmSide(
        () => containerd!,
        CTR_IMAGE,
        (k) => id('peer', pair, k),
      ),

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      checkAllExitedZero(pair, results);
      const left = await engine!.list({ all: true });
      if (left.length > 0) throw new ScenarioFailure(`Engine containers left: ${left.map((c) => c.Names[0]).join(', ')}`);
      const ctrLeft = (await containerd!.ctr(['container', 'ls', '-q'])).trim();
      if (ctrLeft !== '') throw new ScenarioFailure(`ctr containers left: ${ctrLeft}`);
    },

    async teardown(): Promise<void> {
      if (engine !== undefined) {
        for (const c of await engine.list({ all: true }).catch(() => [])) await engine.remove(c.Id, { force: true }).catch(() => undefined);
        await engine.close();
      }
      client?.close();
      await registry?.stop();
      await containerd?.stop();
    },
  };
}
