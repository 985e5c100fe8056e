/**
 * Scenario `cli-start`: the start-up of a daemonless CLI. Every `containerkit` call is a new process, so its cost
 * is paid on every command: `containerkit version` (no store) and `containerkit images` (a store of 10 images),
 * each a cold process, against `node -e 0` (the floor any node CLI pays) and `skopeo --version` (a Go CLI's).
 *
 * Fairness rules:
 * - Same process cost: every command is one fresh process per run, spawned the same way under GNU time.
 * - The containerkit side runs bin/containerkit.js over the built dist/ (what `npm install` gives a user), so no
 *   TypeScript transpiling is timed; a dist/ older than its sources fails the scenario.
 * - The figure is the ratio to `node -e 0`, measured in the same pair: the scenario's own pair is
 *   `containerkit version` vs `node -e 0`; after each pair `containerkit images`, `node -e 0` and `skopeo --version`
 *   run too (in an order that alternates) and are reported apart as RESULT cli-start-images and cli-start-skopeo.
 * - Verified every run: version prints its version, images lists the 10 images, skopeo prints its version.
 */
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { seedCliStore } from '../../test/fixtures/cli-store.js';
import { runProcess } from '../measure.js';
import { median } from '../report.js';
import { type BenchContext, type PairContext, type ProcessCommand, type Scenario, ScenarioFailure, type Side, type SideResult } from '../scenario.js';

/** The targets, as ratios to `node -e 0`. */
export const VERSION_TARGET = 1.5;
export const IMAGES_TARGET = 2.5;
const IMAGES = 10;

// A dist/ older than the CLI's sources would time old code.
async function checkBuilt(repoRoot: string): Promise<void> {
  for (const file of ['main', 'entry', 'command-table']) {
    const built = join(repoRoot, 'dist', 'cli', `${file}.js`);
    const source = join(repoRoot, 'lib', 'cli', `${file}.ts`);
    try {
      await access(built);
    } catch {
      throw new ScenarioFailure(`${built} is missing: build first (npm run build)`);
    }
    if ((await stat(built)).mtimeMs < (await stat(source)).mtimeMs)
      throw new ScenarioFailure(`${built} is older than ${source}: rebuild first (npm run build)`);
  }
}

function summaryLine(name: string, ratios: readonly number[], target?: number): string {
  const m = median(ratios);
  const verdict = target === undefined ? 'floor' : `target=${target} ${m <= target ? 'met' : 'NOT met'}`;
  return `RESULT ${name} ratio=${m.toFixed(3)} ${verdict}`;
}

/** Creates the `cli-start` scenario. */
export function createCliStartScenario(): Scenario {
  let root = '';
  let names: string[] = [];
  const ratios = { version: [] as number[], images: [] as number[], skopeo: [] as number[] };
  const seconds = { images: [] as number[], node: [] as number[], skopeo: [] as number[] };

  const cli = (repoRoot: string, ...argv: string[]): ProcessCommand => ({
    kind: 'process',
    argv: [process.execPath, join(repoRoot, 'bin', 'containerkit.js'), ...argv],
  });
  const node: ProcessCommand = { kind: 'process', argv: [process.execPath, '-e', '0'] };
  const skopeo: ProcessCommand = { kind: 'process', argv: ['skopeo', '--version'] };

  const checkImages = (out: SideResult): void => {
    const lines = out.stdout.trimEnd().split('\n');
    if (
      !/^REPOSITORY\s+TAG\s+IMAGE ID/.test(lines[0] ?? '') ||
      lines.length !== IMAGES + 1 ||
      !names.every((n) => out.stdout.includes(`${n.split(':')[0]}   ${n.split(':')[1]}`))
    ) {
      throw new ScenarioFailure(`containerkit images printed ${JSON.stringify(out.stdout.slice(0, 300))}, not the ${IMAGES} images of the store`);
    }
  };

  return {
    name: 'cli-start',
    description: `start-up of the containerkit CLI as a cold process: version, and images on a store of ${IMAGES} images, against node -e 0`,
    fairness: [
      'containerkit: node bin/containerkit.js version over the built dist/, a fresh process per run; after each pair also node bin/containerkit.js --root ROOT images (10 images)',
      'peer: node -e 0, the floor of any node program (a fresh process per run); skopeo --version as a Go CLI for reference',
      'every command is spawned the same way under GNU time, stdout piped to the harness; process start-up counts on every side',
      `the figures are ratios to node -e 0 in the same pair: RESULT cli-start (version, target ≤ ${VERSION_TARGET}), RESULT cli-start-images (target ≤ ${IMAGES_TARGET}), RESULT cli-start-skopeo (a floor)`,
      'verified every run: version prints the version, images lists the 10 images of the store, skopeo prints its version',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      await checkBuilt(ctx.repoRoot);
      root = join(ctx.workDir, 'root');
      names = await seedCliStore(root, IMAGES, 'example.com/bench/app');
      if (names.length !== IMAGES) throw new ScenarioFailure(`the store holds ${names.length} images, not ${IMAGES}`);
    },

    async prepare(): Promise<void> {
      // Nothing to reset: every command only reads.
    },

    containerkit: (pair: PairContext) => cli(pair.repoRoot, 'version'),
    peer: () => node,

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      if (!/^containerkit \d+\.\d+\.\d+/.test(results.containerkit.stdout))
        throw new ScenarioFailure(`containerkit version printed ${JSON.stringify(results.containerkit.stdout)}`);
      // The other commands of the scenario, each a fresh process too; the order alternates with the pair.
      const runs = { images: cli(pair.repoRoot, '--root', root, 'images'), node, skopeo } as const;
      const order = (pair.index % 2 === 1 ? ['images', 'node', 'skopeo'] : ['skopeo', 'node', 'images']) as Array<keyof typeof runs>;
      const out = {} as Record<keyof typeof runs, SideResult>;
      for (const what of order) {
        out[what] = await runProcess(what === 'images' ? 'containerkit' : 'peer', runs[what], pair.repoRoot, pair.signal);
        if (out[what].exitCode !== 0)
          throw new ScenarioFailure(`${runs[what].argv.join(' ')} exited with ${out[what].exitCode}: ${out[what].stderr.slice(-500)}`);
      }
      checkImages(out.images);
      if (!/^skopeo version /.test(out.skopeo.stdout)) throw new ScenarioFailure(`skopeo --version printed ${JSON.stringify(out.skopeo.stdout)}`);
      if (pair.warmup) return;
      ratios.version.push(results.containerkit.wallSeconds / results.peer.wallSeconds);
      ratios.images.push(out.images.wallSeconds / out.node.wallSeconds);
      ratios.skopeo.push(out.skopeo.wallSeconds / out.node.wallSeconds);
      seconds.images.push(out.images.wallSeconds);
      seconds.node.push(out.node.wallSeconds);
      seconds.skopeo.push(out.skopeo.wallSeconds);
    },

    async teardown(): Promise<void> {
      if (ratios.images.length === 0) return;
      const s = (values: number[]): string => `${median(values).toFixed(3)} s`;
      process.stdout.write(
        [
          `apart from the pairs, medians of ${ratios.images.length} runs: containerkit images ${s(seconds.images)}, node -e 0 ${s(seconds.node)}, skopeo --version ${s(seconds.skopeo)}`,
          summaryLine('cli-start-version', ratios.version, VERSION_TARGET),
          summaryLine('cli-start-images', ratios.images, IMAGES_TARGET),
          summaryLine('cli-start-skopeo', ratios.skopeo),
          '',
        ].join('\n'),
      );
    },
  };
}
