/**
 * Scenario `cli-run`: `containerkit run --rm IMAGE /bin/true` as a fresh process (the daemonless CLI: a new Engine
 * per call) against `podman run --rm` (the daemonless peer), the same image from the same registry.
 *
 * Fairness rules:
 * - Both are cold processes doing the whole job: open the store, find the unpacked image, make a container and its
 *   rootfs, start it through a monitor (containerd-shim-runc-v2 for containerkit, conmon for podman) and runc,
 *   wait, remove everything. Neither pulls inside the timed section (both pulled in setup).
 * - podman runs as the issue says: `--runtime runc --cgroup-manager cgroupfs --events-backend file --network none`,
 *   with a private `--root`/`--runroot`, and rlimits this machine allows (podman asks for more than its hard limits).
 * - Each sample is {@link RUNS_PER_SIDE} runs in a row, each a new process; every run must exit 0 and leave nothing.
 * - `ctr run --rm` on a private containerd is timed once in setup, for reference (printed with these notes).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../../lib/util/exec.js';
import { mountsUnder, unmount } from '../../lib/util/mount.js';
import { startContainerd } from '../../test/fixtures/containerd.js';
import { withPushedImages } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { checkAllExitedZero, RUNS_PER_SIDE, repeatRuns } from '../run-to-exit.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

/** Runs `argv` to its end (a failure is ERR_TOOL_FAILED with its stderr tail); resolves with `exit 0`. */
async function runToEnd(argv: string[], signal: AbortSignal): Promise<string> {
  await runTool(argv[0]!, argv.slice(1), { signal });
  return 'exit 0';
}

/** Creates the `cli-run` scenario. */
export function createCliRunScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  let image = '';
  let ckRoot = '';
  let podmanArgs: string[] = [];
  let podmanRoot = '';
  let cli: string[] = [];
  const fairness = [
    'containerkit: node bin/containerkit.js --root <root> run --rm IMAGE /bin/true (a cold process: new Engine, container, shim, runc, removal)',
    'peer: podman --root <r> --runroot <r> --cgroup-manager cgroupfs --events-backend file run --rm --runtime runc --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 IMAGE /bin/true',
    'same busybox image, pulled by each side in setup from the same local registry; same runc',
    `each sample is ${RUNS_PER_SIDE} runs in a row, each a new process; verified: all exited 0, nothing left on either side`,
  ];

  return {
    name: 'cli-run',
    description: `containerkit run --rm IMAGE /bin/true as a cold process vs podman run --rm, ${RUNS_PER_SIDE} runs in a row per sample`,
    fairness,

    async setup(ctx: BenchContext): Promise<void> {
      registry = await startRegistry();
      const pushed = await withPushedImages(registry);
      image = pushed.busybox.reference;
      ckRoot = join(ctx.workDir, 'containerkit');
      cli = [process.execPath, join(ctx.repoRoot, 'bin', 'containerkit.js'), '--root', ckRoot];
      await runToEnd([...cli, 'pull', '-q', image], ctx.signal);
      podmanRoot = join(ctx.workDir, 'podman');
      await mkdir(podmanRoot, { recursive: true });
      const global = ['--root', join(podmanRoot, 'root'), '--runroot', join(podmanRoot, 'run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
      await runTool('podman', [...global, 'pull', '-q', '--tls-verify=false', image], { signal: ctx.signal });
      podmanArgs = [
        'podman',
        ...global,
        'run',
        '--rm',
        '--runtime',
        'runc',
        '--network',
        'none',
        '--ulimit',
        'nofile=1024:1024',
        '--ulimit',
        'nproc=4096:4096',
        image,
        '/bin/true',
      ];
      // For reference, once: ctr run --rm of the same image on a private containerd.
      const containerd = await startContainerd({ signal: ctx.signal });
      try {
        const archive = join(ctx.workDir, 'image.tar');
        await runTool('tar', ['-C', pushed.busybox.image.layoutDir, '-cf', archive, '.']);
        await containerd.ctr(['images', 'import', '--base-name', 'bench.local/busybox', archive], { signal: ctx.signal });
        await containerd.ctr(['run', '--rm', 'bench.local/busybox:latest', 'warm', '/bin/true']);
        const times: number[] = [];
        for (let k = 0; k < RUNS_PER_SIDE; k++) {
          const t0 = performance.now();
          await containerd.ctr(['run', '--rm', 'bench.local/busybox:latest', `ref-${k}`, '/bin/true']);
          times.push((performance.now() - t0) / 1000);
        }
        fairness.push(
          `reference, measured in setup: ctr run --rm ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(3)} s per run (mean of ${RUNS_PER_SIDE})`,
        );
      } finally {
        await containerd.stop();
      }
    },

    async prepare(): Promise<void> {},

    containerkit: (): SideCommand => ({
      kind: 'in-process',
      run: (signal) => repeatRuns(() => runToEnd([...cli, 'run', '--rm', '--pull', 'never', image, '/bin/true'], signal)),
    }),

    peer: (): SideCommand => ({ kind: 'in-process', run: (signal) => repeatRuns(() => runToEnd(podmanArgs, signal)) }),

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      checkAllExitedZero(pair, results);
      const left = await runTool(cli[0]!, [...cli.slice(1), 'ps', '-aq']);
      if (left.stdout.trim() !== '') throw new ScenarioFailure(`containerkit containers left: ${left.stdout.trim()}`);
      const podmanLeft = await runTool(podmanArgs[0]!, [...podmanArgs.slice(1, podmanArgs.indexOf('run')), 'ps', '-aq']);
      if (podmanLeft.stdout.trim() !== '') throw new ScenarioFailure(`podman containers left: ${podmanLeft.stdout.trim()}`);
    },

    async teardown(): Promise<void> {
      // podman's overlay driver keeps its storage mounted; the harness removes workDir after this.
      if (podmanRoot !== '') for (const point of await mountsUnder(podmanRoot)) await unmount(point, { lazy: true }).catch(() => undefined);
      await registry?.stop();
    },
  };
}
