/**
 * Scenario `containerd-run`: run-to-exit of `/bin/true` on a running containerd, containerkit's ContainerdClient
 * (in-process: createContainer → newTask → wait → start → delete task → delete container and snapshot) against
 * `ctr run --rm` on the same containerd, the same image, in the same namespace.
 *
 * Fairness rules:
 * - Same daemon, image and namespace: one private containerd, the busybox fixture image imported and unpacked once
 *   in setup (untimed), one namespace for both sides; container ids differ per side and run.
 * - Same per-run work, timed: both read the image (record, manifest, config, chain ID), build the runtime spec for
 *   `/bin/true` from the image config, prepare the rootfs snapshot on the image's top chain ID inside a lease,
 *   record the container, make stdin/stdout/stderr FIFOs under /run/containerd/fifo and open them (stdin at EOF at
 *   once, as ctr's is), create the task (containerd starts a shim, runc create), wait, start, wait for the exit,
 *   delete the task (shim shutdown, bundle removed), and delete the container and its snapshot.
 * - Process cost: containerkit is an in-process call (the SDK used as a library, its gRPC connection already open),
 *   the peer is the `ctr` process the issue names (fresh per run, its dial and start-up included); that difference
 *   is what an engine built on the SDK gains.
 * - Each sample is {@link RUNS_PER_SIDE} runs in a row; verified after every pair that all exited 0 and that no
 *   container, task or rootfs snapshot is left on either side.
 * - RSS: neither side's own memory says anything here (the daemon and the shim do the work, and they are shared),
 *   so none is reported.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { ContainerdClient, type ContainerdContainer, type ContainerdTask, createTaskIO, resolveImage } from '../../lib/containerd/index.js';
import { generateSpec, withImageConfig } from '../../lib/runtime/index.js';
import { runTool } from '../../lib/util/exec.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { buildBusyboxImage } from '../../test/fixtures/images.js';
import { checkAllExitedZero, ctrRunRmSide, RUNS_PER_SIDE, repeatRuns } from '../run-to-exit.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const IMAGE = 'bench.local/busybox:latest';
const NAMESPACE = 'bench-containerd-run';

/** Creates the `containerd-run` scenario. */
export function createContainerdRunScenario(): Scenario {
  let containerd: ContainerdFixture | undefined;
  let client: ContainerdClient | undefined;
  // Per run, so a failed pair cannot collide with the next one.
  const tag = randomBytes(3).toString('hex');
  const id = (side: Side, pair: PairContext, k: number): string => `crun-${tag}-${side === 'containerkit' ? 'ck' : 'ctr'}-${pair.index}-${k}`;

  /** One container, ctr run --rm's steps through the SDK. */
  async function ckRun(name: string, signal: AbortSignal): Promise<string> {
    const c = client!;
    // The FIFOs (one mkfifo process, where ctr makes them with mkfifo(2)) are made while the container is created.
    const io = createTaskIO(name, { stdio: { stdin: true, stdout: 'pipe', stderr: 'pipe' }, signal });
    io.catch(() => undefined); // awaited below
    let task: ContainerdTask;
    let container: ContainerdContainer;
    try {
      const image = await resolveImage(c, IMAGE, { signal });
      const spec = await generateSpec([withImageConfig(image.config, { args: ['/bin/true'] })], { id: name, namespace: NAMESPACE });
      // The image was just resolved: its chain ID is the snapshot's parent (createContainer would resolve it again).
      container = await c.createContainer(name, { spec, image: IMAGE, snapshot: { parent: image.chainId }, signal });
      task = await container.newTask({ io: await io, signal });
    } catch (err) {
      await io.then(
        (made) => made.close(),
        () => undefined,
      ); // no FIFO dir left behind a failed run
      throw err;
    }
    // Read the output from the start, as ctr's copy goroutines do.
    const output = Promise.all([buffer(task.stdout!), buffer(task.stderr!)]);
    const exited = task.wait({ signal });
    await task.start({ signal });
    // ctr copies its own stdin (at EOF here) into the stdin FIFO and closes it.
    task.stdin!.end();
    const exit = await exited;
    // ctr waits for the output copies to drain before deleting the task.
    await output;
    await task.delete({ signal });
    await container.delete({ signal });
    return `exit ${exit.code}`;
  }

  return {
    name: 'containerd-run',
    description: `run-to-exit of /bin/true on containerd: ContainerdClient in-process vs ctr run --rm, ${RUNS_PER_SIDE} containers in a row per sample`,
    fairness: [
      'containerkit: resolveImage → generateSpec(withImageConfig, /bin/true) → createContainer (record, then the snapshot prepared on the resolved chain ID; the image read once per run) → newTask with stdin/stdout/stderr FIFOs made concurrently with the steps before (createTaskIO; one mkfifo process) → wait → start → stdin closed, exit awaited, output drained → task.delete → container.delete (snapshot removed), in the harness process with its gRPC connection already open',
      `peer: ctr --address <containerd> --namespace ${NAMESPACE} run --rm ${IMAGE} <id> /bin/true, a fresh ctr process per run (same steps inside ctr and containerd: image read, spec, snapshot, container, FIFOs, task create/start/wait/delete, container and snapshot removed)`,
      'one private containerd, one namespace and one image for both (the busybox fixture image, imported and unpacked once in setup); same shim (containerd-shim-runc-v2) and runc',
      'SDK used as a library against the peer CLI: no node start-up is timed for containerkit, ctr start-up and dial are timed for the peer',
      `each sample is ${RUNS_PER_SIDE} containers in a row; verified after every pair: all exited 0, no container, task or rootfs snapshot left`,
      'peak RSS: not reported for either side (the shared daemon and the shims do the work)',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      containerd = await startContainerd({ namespace: NAMESPACE, signal: ctx.signal });
      const image = await buildBusyboxImage(join(ctx.workDir, 'image'));
      const archive = join(ctx.workDir, 'image.tar');
      await runTool('tar', ['-C', image.layoutDir, '-cf', archive, '.'], { signal: ctx.signal });
      await containerd.ctr(['images', 'import', '--base-name', 'bench.local/busybox', archive], { signal: ctx.signal });
      client = new ContainerdClient({ address: containerd.address, namespace: NAMESPACE });
      // The image must be unpacked for both sides before anything is timed.
      const resolved = await resolveImage(client, IMAGE, { signal: ctx.signal });
      if (resolved.chainId === undefined) throw new ScenarioFailure(`image ${IMAGE} has no layers`);
      const snap = await client.snapshots.stat(resolved.chainId, { signal: ctx.signal });
      if (snap.kind !== 'committed') throw new ScenarioFailure(`image ${IMAGE} is not unpacked (snapshot ${resolved.chainId} is ${snap.kind})`);
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
      const containers = (await containerd!.ctr(['containers', 'ls', '-q'])).trim();
      if (containers !== '') throw new ScenarioFailure(`containers left: ${containers}`);
      const tasks = (await containerd!.ctr(['tasks', 'ls', '-q'])).trim();
      if (tasks !== '') throw new ScenarioFailure(`tasks left: ${tasks}`);
      // Only the image's committed layer may remain.
      const active = (await client!.snapshots.list()).filter((s) => s.kind !== 'committed').map((s) => s.name);
      if (active.length > 0) throw new ScenarioFailure(`rootfs snapshots left: ${active.join(', ')}`);
      const leases = await client!.leases.list();
      if (leases.length > 0) throw new ScenarioFailure(`leases left: ${leases.map((l) => l.id).join(', ')}`);
    },

    async teardown(): Promise<void> {
      await client?.close();
      await containerd?.stop();
    },
  };
}
