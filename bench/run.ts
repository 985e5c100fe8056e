/**
 * `npm run bench -- <scenario…|all> [--json out.json] [--pairs N]`: runs benchmark scenarios, containerkit
 * against a peer, and prints one RESULT line per scenario. Without a scenario, lists them.
 * Exit status: 0 when every scenario passed, 1 when one failed, 2 on a usage error.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCENARIOS } from './catalog.js';
import { DEFAULT_PAIRS, MIN_PAIRS, runScenario } from './harness.js';
import { type ScenarioRun, writeJson } from './report.js';

const USAGE = `usage: npm run bench -- <scenario…|all> [--json out.json] [--pairs N]
  --json FILE   write every sample and summary to FILE
  --pairs N     measured pairs per scenario (≥ ${MIN_PAIRS}, default ${DEFAULT_PAIRS}), after one warm-up pair`;

function listScenarios(): void {
  process.stdout.write(`${USAGE}\n\nscenarios:\n`);
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  for (const s of SCENARIOS) process.stdout.write(`  ${s.name.padEnd(width)}  ${s.summary}\n`);
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        pairs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    listScenarios();
    return 0;
  }
  const pairs = values.pairs === undefined ? DEFAULT_PAIRS : Number(values.pairs);
  if (!Number.isSafeInteger(pairs) || pairs < MIN_PAIRS) usageError(`--pairs must be an integer ≥ ${MIN_PAIRS}, got ${values.pairs}`);
  const names = positionals.includes('all') ? SCENARIOS.map((s) => s.name) : positionals;
  const entries = names.map((name) => SCENARIOS.find((s) => s.name === name) ?? usageError(`unknown scenario "${name}"`));

  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const controller = new AbortController();
  // Ctrl-C kills the running child and still lets teardown remove the scenario's files.
  process.once('SIGINT', () => controller.abort(new Error('interrupted (SIGINT)')));

  const runs: ScenarioRun[] = [];
  for (const entry of entries) {
    const scenario = await entry.load();
    runs.push(await runScenario(scenario, { pairs, repoRoot, signal: controller.signal }));
    if (controller.signal.aborted) break;
  }
  if (values.json !== undefined) {
    const out = resolve(values.json);
    await mkdir(dirname(out), { recursive: true });
    await writeJson(out, runs);
    process.stderr.write(`bench: wrote ${out}\n`);
  }
  return runs.every((r) => r.error === undefined) && runs.length === entries.length ? 0 : 1;
}

process.exitCode = await main();
