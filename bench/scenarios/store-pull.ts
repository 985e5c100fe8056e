/**
 * Scenario `store-pull`: end-to-end pull of the `big` image (a 200 MB incompressible layer and a layer of 20,000
 * small files) into an empty ImageStore, in a fresh node process, against `skopeo copy docker://… oci:DIR:latest`
 * into an empty OCI layout. The containerkit side also re-pulls the present image and reports that time on stderr.
 *
 * Fairness rules:
 * - Same input: one image built once in setup (bench/big-image.ts), pushed to a private docker-registry on
 *   127.0.0.1; both sides pull the same tag over plain HTTP into their own empty directory (recreated every pair).
 * - Same work: both resolve the tag, fetch and verify the manifest, config and both layers, write every blob under
 *   DIR/blobs/sha256 and write index.json and oci-layout naming the image. containerkit also takes its locks, a
 *   lease, and fsyncs each blob before its rename (skopeo does not fsync): a cost counted against containerkit.
 * - Same process cost: one fresh process per run under GNU time; node's start-up counts against containerkit.
 * - Verified after every pair: both directories hold the image's blob set (names and sizes).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pushImage } from '../../test/fixtures/images.js';
import { startRegistry, type RegistryFixture } from '../../test/fixtures/registry.js';
import { buildBigLayout, blobSet, skopeoPull, verifySameBlobs } from '../big-image.js';
import { ScenarioFailure, type BenchContext, type PairContext, type Scenario, type Side, type SideCommand, type SideResult } from '../scenario.js';

/** Creates the `store-pull` scenario. */
export function createStorePullScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  let reference = '';
  let expected = new Map<string, number>();

  return {
    name: 'store-pull',
    description: 'pull the 200 MB + 20,000-file image into an empty ImageStore vs skopeo copy into an empty OCI layout',
    fairness: [
      'containerkit: start node, load dist/images, ImageStore.open(DIR).pull(REF): resolve, fetch all blobs concurrently (verified, fsynced, linked into blobs/), record index.json, exit',
      'peer: skopeo copy docker://127.0.0.1:PORT/big:latest oci:DIR:latest (plain HTTP), which also verifies every blob and writes index.json',
      'same image for both, built once in setup and pushed to one private docker-registry on 127.0.0.1',
      'both are one fresh process per run, spawned the same way under GNU time, into an empty directory recreated every pair',
      'containerkit also re-pulls the present image in the same process (printed on its stderr as re-pull ms); that short time is inside its wall time, counted against containerkit',
      'verified after every pair: both directories hold the same blob names and sizes as the pushed image',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      const built = join(ctx.repoRoot, 'dist', 'images', 'index.js');
      try {
        await access(built);
      } catch {
        throw new ScenarioFailure(`${built} is missing: build first (npm run build)`);
      }
      const layout = join(ctx.workDir, 'layout');
      await buildBigLayout(layout, 'latest', ctx.signal);
      registry = await startRegistry({ signal: ctx.signal });
      await pushImage(layout, 'latest', registry.host, 'big', 'latest', { signal: ctx.signal });
      reference = `${registry.host}/big:latest`;
      expected = await blobSet(layout);
    },

    async prepare(): Promise<void> {
      // The harness empties both destination directories.
    },

    containerkit(pair: PairContext): SideCommand {
      return { kind: 'process', argv: [process.execPath, join(pair.repoRoot, 'bench', 'children', 'store-pull.mjs'), reference, pair.dest.containerkit, '--again'] };
    },

    peer: (pair: PairContext): SideCommand => skopeoPull(reference, pair.dest.peer),

    verify: (pair: PairContext, results: Record<Side, SideResult>) => verifySameBlobs(pair.dest, results, expected),

    async teardown(): Promise<void> {
      await registry?.stop();
    },
  };
}
