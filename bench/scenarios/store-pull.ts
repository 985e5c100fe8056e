/**
 * Scenario `store-pull`: end-to-end pull of the `big` image (a 200 MB incompressible layer and a layer of 20,000
 * small files) into an empty ImageStore, as an in-process `ImageStore.pull` call (the SDK used as a library), against
 * `skopeo copy docker://… oci:DIR:latest` into an empty OCI layout. PERFORMANCE.md: benchmarks of the SDK time
 * in-process API calls against the peer's process, and say so.
 *
 * Fairness rules:
 * - Same input: one image built once in setup (bench/big-image.ts), pushed to a private docker-registry on
 *   127.0.0.1; both sides pull the same tag over plain HTTP into their own empty directory (recreated every pair).
 * - Same work: both resolve the tag, fetch and verify the manifest, config and both layers, write every blob under
 *   DIR/blobs/sha256 and write index.json and oci-layout naming the image. containerkit also takes its locks, a
 *   lease, and fsyncs each blob before its link (skopeo does not fsync): a cost counted against containerkit.
 * - Process cost: the containerkit side is a call in the harness process (no node start-up, no module loading; a
 *   fresh RegistryClient and ImageStore.open inside the timed call, so it pays its own TCP connections); the peer
 *   is a fresh skopeo process under GNU time. Said in the report.
 * - Reported apart: the peak RSS of one containerkit pull in a fresh node process (run once in setup), and the time
 *   of a re-pull of the present image (measured in-process after each pair, outside both sides' times), printed as
 *   `RESULT store-repull` after the scenario's RESULT line.
 * - Verified after every pair: both directories hold the image's blob set (names and sizes).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageStore } from '../../lib/images/index.js';
import { RegistryClient } from '../../lib/registry/index.js';
import { pushImage } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { blobSet, buildBigLayout, skopeoPull, verifySameBlobs } from '../big-image.js';
import { runProcess } from '../measure.js';
import { median } from '../report.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

/** What the issue asks of a re-pull of a present image. */
export const REPULL_TARGET_MS = 50;

/** Pulls `reference` into the store at `dir` with a fresh client; returns the manifest digest. */
async function pullOnce(reference: string, dir: string, signal: AbortSignal): Promise<string> {
  const client = new RegistryClient();
  try {
    const store = await ImageStore.open(dir, { registry: client, signal });
    return (await store.pull(reference, { signal })).target.digest;
  } finally {
    client.close();
  }
}

/** Creates the `store-pull` scenario. */
export function createStorePullScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  let reference = '';
  let expected = new Map<string, number>();
  let manifestDigest = '';
  const repullMs: number[] = [];
  const fairness = [
    'containerkit: in-process call in the harness (the SDK as a library, no node start-up): new RegistryClient, ImageStore.open(DIR), pull(REF): resolve, fetch all blobs concurrently (verified once, fsynced, linked into blobs/), record index.json',
    'peer: skopeo copy docker://127.0.0.1:PORT/big:latest oci:DIR:latest (plain HTTP), a fresh process under GNU time, which also verifies every blob and writes index.json',
    'same image for both, built once in setup and pushed to one private docker-registry on 127.0.0.1; each side pulls into an empty directory recreated every pair',
    `reported apart: the re-pull of the present image (in-process, fresh client, after each pair, untimed for both sides) as RESULT store-repull, target < ${REPULL_TARGET_MS} ms`,
    'verified after every pair: both directories hold the same blob names and sizes as the pushed image',
  ];

  return {
    name: 'store-pull',
    description: 'pull the 200 MB + 20,000-file image into an empty ImageStore (in-process) vs skopeo copy into an empty OCI layout',
    fairness,

    async setup(ctx: BenchContext): Promise<void> {
      const layout = join(ctx.workDir, 'layout');
      await buildBigLayout(layout, 'latest', ctx.signal);
      registry = await startRegistry({ signal: ctx.signal });
      manifestDigest = await pushImage(layout, 'latest', registry.host, 'big', 'latest', { signal: ctx.signal });
      reference = `${registry.host}/big:latest`;
      expected = await blobSet(layout);

      // Peak RSS of one pull in a fresh node process (the same pull as the timed call, over the built dist/).
      const child = join(ctx.repoRoot, 'bench', 'children', 'store-pull.mjs');
      try {
        await access(join(ctx.repoRoot, 'dist', 'images', 'index.js'));
      } catch {
        throw new ScenarioFailure('dist/images/index.js is missing: build first (npm run build)');
      }
      const probe = await runProcess(
        'containerkit',
        { kind: 'process', argv: [process.execPath, child, reference, join(ctx.workDir, 'rss-probe'), '--again'] },
        ctx.repoRoot,
        ctx.signal,
      );
      if (probe.exitCode !== 0) throw new ScenarioFailure(`the RSS probe (${child}) exited with ${probe.exitCode}: ${probe.stderr.slice(-500)}`);
      const repull = /re-pull ms ([\d.]+)/.exec(probe.stderr)?.[1];
      fairness.push(
        `measured once in setup, informational: one pull in a fresh node process (bench/children/store-pull.mjs over dist/) took ${probe.wallSeconds.toFixed(3)} s with node start-up and module loading, peak RSS ${(probe.peakRssKiB! / 1024).toFixed(1)} MiB; its re-pull ${repull === undefined ? '?' : Number(repull).toFixed(1)} ms`,
      );
    },

    async prepare(): Promise<void> {
      // The harness empties both destination directories.
    },

    containerkit(pair: PairContext): SideCommand {
      return { kind: 'in-process', run: (signal: AbortSignal) => pullOnce(reference, pair.dest.containerkit, signal) };
    },

    peer: (pair: PairContext): SideCommand => skopeoPull(reference, pair.dest.peer),

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      if (results.containerkit.stdout !== manifestDigest)
        throw new ScenarioFailure(`containerkit pulled ${results.containerkit.stdout}, expected ${manifestDigest}`);
      await verifySameBlobs(pair.dest, results, expected);
      const start = process.hrtime.bigint();
      const again = await pullOnce(reference, pair.dest.containerkit, pair.signal);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (again !== manifestDigest) throw new ScenarioFailure(`the re-pull gave ${again}, expected ${manifestDigest}`);
      if (!pair.warmup) repullMs.push(ms);
    },

    async teardown(): Promise<void> {
      await registry?.stop();
      if (repullMs.length > 0) {
        const m = median(repullMs);
        process.stdout.write(
          `re-pull of the present image, in-process, ${repullMs.length} samples: median ${m.toFixed(1)} ms, min ${Math.min(...repullMs).toFixed(1)} ms, max ${Math.max(...repullMs).toFixed(1)} ms (target < ${REPULL_TARGET_MS} ms)\n` +
            `RESULT store-repull ms=${m.toFixed(1)} target=${REPULL_TARGET_MS} ${m < REPULL_TARGET_MS ? 'met' : 'NOT met'}\n`,
        );
      }
    },
  };
}
