/**
 * Scenario `runc-run`: start-to-exit of `/bin/true` in a container, `OCIRuntime.run` against `runc run` spawned
 * directly with child_process, both driven from the harness's own Node process.
 *
 * Fairness rules:
 * - Same work: one prepared busybox bundle (config.json from `runc spec`, args `/bin/true`), the same runc binary
 *   and a private state root, one container per run, created, run and deleted by runc's foreground `run`.
 * - Same process cost: both sides are calls inside the harness process (kind `in-process`), so neither pays a
 *   Node start-up; each run spawns exactly one runc, with no shell, stdin from /dev/null and stdout/stderr piped to
 *   the harness and read to the end.
 * - What containerkit adds is measured, not excluded: validating the options, a private 0700 scratch dir with a
 *   JSON log for runc (created, read on failure, removed), the `--log` flags, and the exit-status decoding.
 * - Same ids: `runc-run-<side>-<pair>-<k>`; verified after every pair that every run exited 0 and that the state
 *   root is empty again (runc deleted every container).
 * - Each side's sample is {@link RUNS_PER_SIDE} runs in a row: one runc run varies by ±25 % here (cgroup and
 *   namespace set-up in the kernel), which would drown a per-run difference of a millisecond.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { OCIRuntime } from '../../lib/runtime/oci-runtime.js';
import { writeBusyboxBundle } from '../../test/fixtures/bundle.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

/** Containers each side runs, one after another, per sample. */
export const RUNS_PER_SIDE = 10;

/** Runs `once(k)` {@link RUNS_PER_SIDE} times in a row; returns `exit 0` only if every run printed `exit 0`. */
async function repeat(once: (k: number) => Promise<string>): Promise<string> {
  const outcomes = new Set<string>();
  for (let k = 0; k < RUNS_PER_SIDE; k++) outcomes.add(await once(k));
  return [...outcomes].join(', ');
}

/** Spawns `runc --root <root> run --bundle <bundle> <id>` the way a hand-written harness would, and waits for it. */
function runcRunDirect(root: string, bundle: string, id: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['--root', root, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(`exit 0${Buffer.concat(out).toString()}`);
      else reject(new ScenarioFailure(`runc run ${id} exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
  });
}

/** Creates the `runc-run` scenario. */
export function createRuncRunScenario(): Scenario {
  let bundle = '';
  let root = '';
  let runtime: OCIRuntime | undefined;
  const id = (side: Side, pair: PairContext, k: number): string => `runc-run-${side === 'containerkit' ? 'ck' : 'peer'}-${pair.index}-${k}`;

  return {
    name: 'runc-run',
    description: `start-to-exit of /bin/true in a busybox container (runc run, foreground), ${RUNS_PER_SIDE} containers in a row per sample`,
    fairness: [
      'containerkit: OCIRuntime.run(id, bundle) called in the harness process: scratch dir + JSON log, one runc spawn (no shell), exit status decoded, scratch removed',
      'peer: child_process.spawn("runc", ["--root", ROOT, "run", "--bundle", BUNDLE, id]) in the harness process, waited to its close',
      'both: stdin /dev/null, stdout/stderr piped to the harness and read to the end; neither side pays a Node start-up',
      `each sample is ${RUNS_PER_SIDE} runs in a row (single runs jitter by ±25 %), ids runc-run-<side>-<pair>-<k>`,
      'same prepared bundle (runc spec, args /bin/true), same runc, same private state root',
      'verified after every pair: every run exited 0 and the state root lists no container (runc deleted them all)',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      bundle = join(ctx.workDir, 'bundle');
      root = join(ctx.workDir, 'runc-root');
      await writeBusyboxBundle(bundle, { args: ['/bin/true'] });
      runtime = new OCIRuntime({ root });
    },

    async prepare(): Promise<void> {
      // Nothing to reset: each run's container is deleted by runc itself, which verify checks.
    },

    containerkit(pair: PairContext): SideCommand {
      return {
        kind: 'in-process',
        run: (signal: AbortSignal) =>
          repeat(async (k) => {
            const result = await runtime!.run(id('containerkit', pair, k), bundle, { signal });
            return `exit ${result.code}${result.stdout ?? ''}`;
          }),
      };
    },

    peer(pair: PairContext): SideCommand {
      return { kind: 'in-process', run: (signal: AbortSignal) => repeat((k) => runcRunDirect(root, bundle, id('peer', pair, k), signal)) };
    },

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      for (const side of ['containerkit', 'peer'] as const) {
        if (results[side].stdout !== 'exit 0')
          throw new ScenarioFailure(`${side} (pair ${pair.index}) gave ${JSON.stringify(results[side].stdout)}, not "exit 0" for every run`);
      }
      const left = await runtime!.list();
      if (left.length > 0) throw new ScenarioFailure(`containers left under the state root: ${left.map((c) => c.id).join(', ')}`);
    },

    async teardown(): Promise<void> {
      if (runtime === undefined) return;
      for (const c of await runtime.list().catch(() => [])) await runtime.delete(c.id, { force: true }).catch(() => undefined);
    },
  };
}
