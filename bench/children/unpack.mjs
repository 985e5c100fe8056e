// The containerkit side of the `unpack` scenario: plain JS over the built dist/. Reads LAYOUT's index.json for TAG,
// then the manifest and config, and applies every layer in order onto DEST with applyLayer (blob digest, size and
// diff_id verified, whiteouts applied), as `umoci raw unpack` does. Prints one diff_id per line.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyLayer } from '../../dist/unpack/apply-layer.js';

const [layout, tag, dest] = process.argv.slice(2);
if (layout === undefined || tag === undefined || dest === undefined) {
  process.stderr.write('usage: node bench/children/unpack.mjs LAYOUT TAG DEST\n');
  process.exit(2);
}
const blob = (digest) => join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
const root = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
if (root === undefined) throw new Error(`no ${tag} in ${layout}`);
const manifest = JSON.parse(await readFile(blob(root.digest), 'utf8'));
const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
const out = [];
for (const [i, layer] of manifest.layers.entries()) {
  const result = await applyLayer(dest, createReadStream(blob(layer.digest), { highWaterMark: 1 << 20 }), {
    expectedDigest: layer.digest,
    expectedSize: layer.size,
    expectedDiffId: config.rootfs.diff_ids[i],
  });
  out.push(result.diffId);
}
process.stdout.write(out.map((d) => `${d}\n`).join(''));
