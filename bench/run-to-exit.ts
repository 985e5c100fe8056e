/**
 * What the run-to-exit scenarios (`shim-run`, `containerd-run`) share: each sample is a few containers started and
 * removed one after another, the peer is `ctr run --rm` on a private containerd, and every run must exit 0.
 */
import type { ContainerdFixture } from '../test/fixtures/containerd.js';
import { type PairContext, ScenarioFailure, SIDES, type Side, type SideCommand, type SideResult } from './scenario.js';

/** Containers each side runs, one after another, per sample. */
export const RUNS_PER_SIDE = 5;

/** Runs `once` {@link RUNS_PER_SIDE} times in a row; returns the distinct outcomes, joined. */
export async function repeatRuns(once: (k: number) => Promise<string>): Promise<string> {
  const outcomes = new Set<string>();
  for (let k = 0; k < RUNS_PER_SIDE; k++) outcomes.add(await once(k));
  return [...outcomes].join(', ');
}

/** The peer side: `ctr run --rm IMAGE <id(k)> /bin/true`, {@link RUNS_PER_SIDE} times (ctr exits with the task's status). */
export function ctrRunRmSide(containerd: () => ContainerdFixture, image: string, id: (k: number) => string): SideCommand {
  return {
    kind: 'in-process',
    run: (signal: AbortSignal) =>
      repeatRuns(async (k) => {
        await containerd().ctr(['run', '--rm', image, id(k), '/bin/true'], { signal });
        return 'exit 0';
      }),
  };
}

/** Fails the pair unless every run of both sides exited 0. */
export function checkAllExitedZero(pair: PairContext, results: Record<Side, SideResult>): void {
  for (const side of SIDES) {
    if (results[side].stdout !== 'exit 0')
      throw new ScenarioFailure(`${side} (pair ${pair.index}) gave ${JSON.stringify(results[side].stdout)}, not "exit 0" for every run`);
  }
}
