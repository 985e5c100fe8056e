/** Summaries of the measured pairs, the printed report and the `--json` file. */

import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Scenario, Side, SideCommand, SideResult } from './scenario.js';
import { SIDES } from './scenario.js';

/** One pair: both sides' results, who went first, and containerkit's time over the peer's. */
export interface PairRecord {
  index: number;
  warmup: boolean;
  first: Side;
  results: Record<Side, SideResult>;
  ratio: number;
}

/** Per side: wall-time median, min and max in seconds, and the median peak RSS (KiB, null when in-process). */
export interface SideSummary {
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  medianPeakRssKiB: number | null;
}

/** A scenario's outcome over its measured pairs. */
export interface ScenarioSummary {
  pairs: number;
  sides: Record<Side, SideSummary>;
  /** Median of the per-pair ratios containerkit/peer (not the ratio of the medians). */
  medianRatio: number;
}

/** How each side ran, as printed in the header and stored in the JSON. */
export interface SideDescription {
  mode: SideCommand['kind'];
  /** The argv of the warm-up pair, or a note for an in-process call. */
  command: string;
}

/** Everything about one scenario run. */
export interface ScenarioRun {
  name: string;
  description: string;
  fairness: string[];
  sides: Record<Side, SideDescription>;
  warmup?: PairRecord;
  pairs: PairRecord[];
  summary?: ScenarioSummary;
  error?: string;
}

/** The median; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Summarises the measured (non-warm-up) pairs. */
export function summarize(pairs: readonly PairRecord[]): ScenarioSummary {
  const side = (s: Side): SideSummary => {
    const walls = pairs.map((p) => p.results[s].wallSeconds);
    const rss = pairs.map((p) => p.results[s].peakRssKiB).filter((v): v is number => v !== null);
    return {
      medianSeconds: median(walls),
      minSeconds: Math.min(...walls),
      maxSeconds: Math.max(...walls),
      medianPeakRssKiB: rss.length === pairs.length ? median(rss) : null,
    };
  };
  return {
    pairs: pairs.length,
    sides: { containerkit: side('containerkit'), peer: side('peer') },
    medianRatio: median(pairs.map((p) => p.ratio)),
  };
}

/** Describes a side's command for the report. */
export function describeCommand(command: SideCommand): SideDescription {
  if (command.kind === 'in-process') {
    return { mode: 'in-process', command: 'in-process API call inside the harness process (no process start-up timed; peak RSS not measured)' };
  }
  return { mode: 'process', command: `${command.argv.join(' ')}  (fresh child process per run)` };
}

const secs = (s: number): string => s.toFixed(3);
const mib = (kib: number | null): string => (kib === null ? 'n/a (in-process)' : `${(kib / 1024).toFixed(1)} MiB`);

/** The lines printed before the pairs run. */
export function headerLines(scenario: Scenario, sides: Record<Side, SideDescription>, pairs: number): string[] {
  return [
    `== ${scenario.name}: ${scenario.description}`,
    'fairness:',
    ...scenario.fairness.map((f) => `  - ${f}`),
    ...SIDES.map((s) => `${s.padEnd(12)}: ${sides[s].command}`),
    `1 warm-up pair, then ${pairs} measured pairs; the side that goes first alternates each pair`,
  ];
}

/** One line per pair, printed as it completes. */
export function pairLine(record: PairRecord, total: number): string {
  const label = record.warmup ? 'warm-up' : `pair ${record.index}/${total}`;
  const side = (s: Side): string => `${s} ${secs(record.results[s].wallSeconds)} s (${mib(record.results[s].peakRssKiB)})`;
  return `${label.padEnd(10)} ${record.first} first: ${side('containerkit')}, ${side('peer')}, ratio ${record.ratio.toFixed(3)}`;
}

/** The summary table, ending with the RESULT line (which must stay the scenario's last line). */
export function summaryLines(name: string, summary: ScenarioSummary): string[] {
  const row = (s: Side): string => {
    const x = summary.sides[s];
    return `${s.padEnd(12)} median ${secs(x.medianSeconds)} s   min ${secs(x.minSeconds)} s   max ${secs(x.maxSeconds)} s   peak RSS (median) ${mib(x.medianPeakRssKiB)}`;
  };
  return [
    ...SIDES.map(row),
    `ratio containerkit/peer, median of ${summary.pairs} pairwise ratios: ${summary.medianRatio.toFixed(3)}`,
    resultLine(name, summary),
  ];
}

/** `RESULT <scenario> containerkit=<median s> peer=<median s> ratio=<median ratio>`. */
export function resultLine(name: string, summary: ScenarioSummary): string {
  const { containerkit, peer } = summary.sides;
  return `RESULT ${name} containerkit=${secs(containerkit.medianSeconds)} peer=${secs(peer.medianSeconds)} ratio=${summary.medianRatio.toFixed(3)}`;
}

/** Writes every sample and summary, with the host facts that make numbers comparable. */
export async function writeJson(path: string, runs: readonly ScenarioRun[]): Promise<void> {
  const report = {
    generatedAt: new Date().toISOString(),
    host: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      totalMemBytes: totalmem(),
      loadavg: loadavg(),
    },
    units: { wallSeconds: 's', peakRssKiB: 'KiB', ratio: 'containerkit/peer' },
    scenarios: runs,
  };
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}
