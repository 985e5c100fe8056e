/**
 * What a benchmark scenario is: the work both sides do, how they are reset before each pair and how their
 * results are checked against each other. The harness (harness.ts) owns timing, ordering and reporting.
 */

/** The two sides of every comparison. */
export type Side = 'containerkit' | 'peer';

/** Both sides, in the order the report lists them. */
export const SIDES: readonly Side[] = ['containerkit', 'peer'];

/** What a scenario gets once, for setup and teardown. */
export interface BenchContext {
  /** A private temporary directory for this scenario run; the harness creates it and removes it after teardown. */
  workDir: string;
  /** The repository root (where package.json and dist/ live). */
  repoRoot: string;
  /** Aborts on Ctrl-C; long setups should pass it on. */
  signal: AbortSignal;
}

/** What a scenario gets for each pair. */
export interface PairContext extends BenchContext {
  /** 0 is the warm-up pair (not counted); measured pairs are 1…N. */
  index: number;
  warmup: boolean;
  /** The side that runs first in this pair; the harness alternates it. */
  first: Side;
  /**
   * One directory per side, recreated empty by the harness right before that side runs (same paths every pair):
   * the destination of a pull, an unpack, a copy. Scenarios that write nothing ignore them.
   */
  dest: Record<Side, string>;
}

/** Run one side as a fresh child process. The harness wraps it in `/usr/bin/time -f %M` for its peak RSS. */
export interface ProcessCommand {
  kind: 'process';
  /** Program and arguments; no shell. */
  argv: string[];
  /** Working directory. Default: the repository root. */
  cwd?: string;
  /** Extra environment variables, on top of the harness's own environment. */
  env?: Record<string, string>;
}

/**
 * Run one side as a function call inside the harness process: for scenarios that time an in-process API call
 * (the SDK used as a library) against a peer's process. The report says so, and has no peak RSS for it.
 */
export interface InProcessCommand {
  kind: 'in-process';
  /** Does the work; what it returns is recorded as the side's stdout, for `verify`. */
  run(signal: AbortSignal): Promise<string | void>;
}

/** How one side performs the scenario's work. */
export type SideCommand = ProcessCommand | InProcessCommand;

/** What one side's run produced. */
export interface SideResult {
  side: Side;
  stdout: string;
  /** The child's stderr, without the line `/usr/bin/time` appended. */
  stderr: string;
  exitCode: number;
  wallSeconds: number;
  /** Peak resident set size of the child in KiB; `null` for an in-process run. */
  peakRssKiB: number | null;
}

/** A benchmark scenario. Keep all state (temp paths, expected results) inside the object the factory returns. */
export interface Scenario {
  name: string;
  /** One line: what is measured. */
  description: string;
  /** The steps each side performs and why the comparison is fair, one sentence each. Printed in the report. */
  fairness: string[];
  /** Once, before the warm-up pair: create inputs, start servers, compute expected results. */
  setup(ctx: BenchContext): Promise<void>;
  /** Before each pair (untimed): reset anything the sides share. */
  prepare(pair: PairContext): Promise<void>;
  /**
   * Right before one side runs (untimed, after its `dest` was emptied): reset what only that side touches. Resets that
   * delete much belong here rather than in `prepare`, so that each side pays alike for the aftermath of its own.
   */
  beforeSide?(side: Side, pair: PairContext): Promise<void>;
  /**
   * Drop the kernel's clean caches (after a sync) right before each side, once its resets are done. For scenarios
   * that create many files after deleting many: on ext4 without a journal, a new inode skips every inode deleted in
   * the last 60 s (360 s while its inode-table block is dirty) whose block is still cached, scanning the group from
   * its start each time, so 20,000 creations after 20,000 deletions burned ~30 s of system CPU in whichever side
   * came next. Uncached inode tables are not scanned. Both sides then also read their inputs from disk.
   */
  dropCachesBeforeSide?: boolean;
  /** The containerkit side of this pair. */
  containerkit(pair: PairContext): SideCommand;
  /** The peer side of this pair. */
  peer(pair: PairContext): SideCommand;
  /** After each pair (untimed): throw a {@link ScenarioFailure} unless both sides produced the same, right result. */
  verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void>;
  /** Once, at the end, also after a failure: stop servers, remove what setup made outside `workDir`. */
  teardown(ctx: BenchContext): Promise<void>;
}

/** A scenario's sides disagreed or did the wrong thing; the scenario fails and prints no RESULT line. */
export class ScenarioFailure extends Error {
  override name = 'ScenarioFailure';
}

/** How run.ts finds scenarios without loading them all: a name, a line for the listing, and a loader. */
export interface ScenarioEntry {
  name: string;
  summary: string;
  load(): Promise<Scenario>;
}
