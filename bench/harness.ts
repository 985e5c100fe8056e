/**
 * Runs one scenario: setup, one warm-up pair, N measured pairs with the first side alternating, verification
 * after every pair, teardown. Each side is timed as wall time; child processes also report their peak RSS.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTimeBinary, runInProcess, runProcess } from './measure.js';
import { describeCommand, headerLines, type PairRecord, pairLine, type ScenarioRun, summarize, summaryLines } from './report.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from './scenario.js';

/** The fewest measured pairs that make a median of ratios worth printing. */
export const MIN_PAIRS = 5;
/** Measured pairs when `--pairs` is not given. */
export const DEFAULT_PAIRS = 7;

/** Options for {@link runScenario}. */
export interface HarnessOptions {
  /** Measured pairs, at least {@link MIN_PAIRS}. Default {@link DEFAULT_PAIRS}. */
  pairs?: number;
  repoRoot: string;
  /** Ctrl-C: kills the running child, then teardown still runs. */
  signal: AbortSignal;
  /** Where report lines go. Default: stdout. */
  print?: (line: string) => void;
}

const STDERR_TAIL = 2000;

function checkExit(result: SideResult, command: SideCommand): void {
  if (result.exitCode === 0) return;
  const what = command.kind === 'process' ? command.argv.join(' ') : 'in-process call';
  throw new ScenarioFailure(`${result.side} side (${what}) exited with ${result.exitCode}: ${result.stderr.slice(-STDERR_TAIL).trim()}`);
}

/** Writes back, then drops the clean page, dentry and inode caches (needs root). */
async function dropCaches(signal: AbortSignal): Promise<void> {
  await syncFilesystems(signal);
  await writeFile('/proc/sys/vm/drop_caches', '3\n', { signal });
}

// Dirty pages left by the previous pair would be written back during the next one's timing.
function syncFilesystems(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sync', [], { stdio: 'ignore', signal });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

async function runSide(side: Side, command: SideCommand, repoRoot: string, signal: AbortSignal): Promise<SideResult> {
  const result = command.kind === 'process' ? await runProcess(side, command, repoRoot, signal) : await runInProcess(side, command, signal);
  checkExit(result, command);
  return result;
}

/**
 * Runs `scenario` and prints its report; the last line printed for a scenario that passed is its RESULT line.
 * Returns the run (samples and summary). A failure of setup, a side or verification (or an abort) ends the
 * scenario with a `FAILED <name>: <why>` line instead, and `run.error` set; teardown runs either way.
 * Throws only when the harness itself cannot measure (bad `pairs`, no GNU time).
 */
export async function runScenario(scenario: Scenario, options: HarnessOptions): Promise<ScenarioRun> {
  const { pairs = DEFAULT_PAIRS, repoRoot, signal, print = (line: string) => process.stdout.write(`${line}\n`) } = options;
  if (!Number.isSafeInteger(pairs) || pairs < MIN_PAIRS) throw new Error(`pairs must be an integer ≥ ${MIN_PAIRS}, got ${pairs}`);
  await checkTimeBinary();

  const workDir = await mkdtemp(join(tmpdir(), `containerkit-bench-${scenario.name}-`));
  const ctx: BenchContext = { workDir, repoRoot, signal };
  const dest: Record<Side, string> = { containerkit: join(workDir, 'dest', 'containerkit'), peer: join(workDir, 'dest', 'peer') };
  const run: ScenarioRun = {
    name: scenario.name,
    description: scenario.description,
    fairness: scenario.fairness,
    sides: { containerkit: { mode: 'process', command: '' }, peer: { mode: 'process', command: '' } },
    pairs: [],
  };
  try {
    await scenario.setup(ctx);
    for (let index = 0; index <= pairs; index++) {
      signal.throwIfAborted();
      // Pair 0 is the warm-up; after it, odd pairs start with containerkit and even ones with the peer.
      const first: Side = index % 2 === 1 ? 'containerkit' : 'peer';
      const pair: PairContext = { ...ctx, index, warmup: index === 0, first, dest };
      await scenario.prepare(pair);
      const commands: Record<Side, SideCommand> = { containerkit: scenario.containerkit(pair), peer: scenario.peer(pair) };
      if (index === 0) {
        run.sides = { containerkit: describeCommand(commands.containerkit), peer: describeCommand(commands.peer) };
        for (const line of headerLines(scenario, run.sides, pairs)) print(line);
      }
      const order: Side[] = first === 'containerkit' ? ['containerkit', 'peer'] : ['peer', 'containerkit'];
      const results = {} as Record<Side, SideResult>;
      for (const side of order) {
        // Each side's destination is emptied right before that side runs, so each pays alike for the deletion of
        // its own last output: emptying both up front made whichever side ran first pay for both (on this ext4,
        // creating files scans recently freed inodes, and that side ran 2-4x slower; `dropCachesBeforeSide` removes
        // that cost for both).
        await rm(dest[side], { recursive: true, force: true });
        await mkdir(dest[side], { recursive: true });
        await scenario.beforeSide?.(side, pair);
        // Untimed: the writeback of what the previous side wrote (and of the deletion) must not land in this side's time.
        if (scenario.dropCachesBeforeSide) await dropCaches(signal);
        else await syncFilesystems(signal);
        results[side] = await runSide(side, commands[side], repoRoot, signal);
      }
      await scenario.verify(pair, results);
      const record: PairRecord = {
        index,
        warmup: index === 0,
        first,
        results,
        ratio: results.containerkit.wallSeconds / results.peer.wallSeconds,
      };
      if (record.warmup) run.warmup = record;
      else run.pairs.push(record);
      print(pairLine(record, pairs));
    }
    run.summary = summarize(run.pairs);
    for (const line of summaryLines(scenario.name, run.summary)) print(line);
    return run;
  } catch (err) {
    // The scenario fails without a RESULT line; its samples so far stay in the run for --json.
    run.error = err instanceof Error ? err.message : String(err);
    print(`FAILED ${scenario.name}: ${run.error}`);
    return run;
  } finally {
    try {
      await scenario.teardown(ctx);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
