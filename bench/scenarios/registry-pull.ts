/**
 * Scenario `registry-pull`: pull an image of a 200 MB incompressible layer and a layer of 20,000 small files from a
 * local docker-registry into an empty directory, RegistryClient in a fresh node process against
 * `skopeo copy docker://… oci:DIR`.
 *
 * Fairness rules:
 * - Same input: one image built once in setup (a 200 MB layer of random bytes in 8 files, gzip level 1, which
 *   cannot shrink it; a gzip layer of 20,000 × 1 KiB files in 200 directories; a config), pushed with skopeo
 *   to a private docker-registry on 127.0.0.1 started in setup; both sides pull the same tag over plain HTTP.
 * - Same work: each side resolves the tag, fetches the manifest, config and both layers, verifies every digest and
 *   writes every blob under DIR/blobs/sha256 of its own empty directory (recreated by the harness every pair).
 *   skopeo also writes index.json and oci-layout (two tiny files).
 * - Same process cost: both are one fresh process per run under GNU time; node's start-up counts against
 *   containerkit. The containerkit child is plain JS over the built dist/.
 * - Verified after every pair: both directories hold the same blob set (names and sizes), equal to the image's.
 */
import { access, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { digestFile } from '../../lib/util/digest-stream.js';
import { initLayout, tagManifest, writeBlob } from '../../test/fixtures/image-layout.js';
import { hostArchitecture, pushImage } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { blobSet, skopeoPull, verifySameBlobs, writeRandomLayer, writeSmallFilesLayer } from '../big-image.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

/** Creates the `registry-pull` scenario. */
export function createRegistryPullScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  let reference = '';
  let expected = new Map<string, number>();

  return {
    name: 'registry-pull',
    description: 'pull a 200 MB incompressible layer and a 20,000-file layer from a local docker-registry into an empty directory',
    fairness: [
      'containerkit: start node, load dist/registry, resolve the tag, fetch the manifest and all blobs at once (each verified byte by byte, 1 MiB chunks) into DIR/blobs/sha256, exit',
      'peer: skopeo copy docker://127.0.0.1:PORT/big:latest oci:DIR:latest (plain HTTP), which also verifies every blob',
      'same image for both, built once in setup and pushed to one private docker-registry on 127.0.0.1',
      'both are one fresh process per run, spawned the same way under GNU time, into an empty directory recreated every pair',
      'verified after every pair: both directories hold the same blob names and sizes as the pushed image',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      const built = join(ctx.repoRoot, 'dist', 'registry', 'registry-client.js');
      try {
        await access(built);
      } catch {
        throw new ScenarioFailure(`${built} is missing: build first (npm run build)`);
      }
      const layout = join(ctx.workDir, 'layout');
      await initLayout(layout);
      const layers = [];
      for (const [name, mediaType, write] of [
        ['random.tar.gz', 'application/vnd.oci.image.layer.v1.tar+gzip', writeRandomLayer],
        ['small.tar.gz', 'application/vnd.oci.image.layer.v1.tar+gzip', writeSmallFilesLayer],
      ] as const) {
        const file = join(ctx.workDir, name);
        await write(file, ctx.signal);
        // Layers are big: write them once and move them into the layout under their digest.
        const { hex, size } = await digestFile(file);
        await rename(file, join(layout, 'blobs', 'sha256', hex));
        layers.push({ mediaType, digest: `sha256:${hex}`, size });
      }
      const arch = hostArchitecture();
      const config = {
        architecture: arch,
        os: 'linux',
        config: { Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [layers[0]!.digest, `sha256:${'0'.repeat(64)}`] },
      };
      const configDesc = await writeBlob(layout, 'application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify(config)));
      const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers };
      const manifestDesc = await writeBlob(layout, 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify(manifest)));
      await tagManifest(layout, manifestDesc, 'latest');
      registry = await startRegistry({ signal: ctx.signal });
      await pushImage(layout, 'latest', registry.host, 'big', 'latest', { signal: ctx.signal });
      reference = `${registry.host}/big:latest`;
      // The layout holds exactly the image's blobs: manifest, config and the two layers.
      expected = await blobSet(layout);
    },

    async prepare(): Promise<void> {
      // The harness empties both destination directories; the registry is read-only for both sides.
    },

    containerkit(pair: PairContext): SideCommand {
      return { kind: 'process', argv: [process.execPath, join(pair.repoRoot, 'bench', 'children', 'registry-pull.mjs'), reference, pair.dest.containerkit] };
    },

    peer: (pair: PairContext): SideCommand => skopeoPull(reference, pair.dest.peer),

    verify: (pair: PairContext, results: Record<Side, SideResult>) => verifySameBlobs(pair.dest, results, expected),

    async teardown(): Promise<void> {
      await registry?.stop();
    },
  };
}
