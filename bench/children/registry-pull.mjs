// The containerkit side of the `registry-pull` scenario: plain JS over the built dist/. Resolves REF, fetches the
// manifest and every blob it names (all at once, each verified byte by byte by RegistryClient) into
// DIR/blobs/sha256/<hex> through a temp file renamed after verification, and prints one digest per line.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RegistryClient } from '../../dist/registry/registry-client.js';

const [ref, dir] = process.argv.slice(2);
if (ref === undefined || dir === undefined) {
  process.stderr.write('usage: node bench/children/registry-pull.mjs REF DIR\n');
  process.exit(2);
}
const blobs = join(dir, 'blobs', 'sha256');
await mkdir(blobs, { recursive: true });
const client = new RegistryClient();
const { descriptor } = await client.resolve(ref);
const manifest = await client.fetchManifest(ref, { descriptor });
await writeFile(join(blobs, descriptor.digest.slice(7)), manifest.bytes);
if (manifest.parsed.kind !== 'manifest') throw new Error('expected an image manifest');
const { config, layers } = manifest.parsed.manifest;
const fetcher = client.fetcher(ref);
await Promise.all(
  [config, ...layers].map(async (desc) => {
    const path = join(blobs, desc.digest.slice(7));
    await pipeline(await fetcher.fetch(desc), createWriteStream(`${path}.partial`, { highWaterMark: 1024 * 1024 }));
    await rename(`${path}.partial`, path);
  }),
);
client.close();
process.stdout.write([descriptor, config, ...layers].map((d) => `${d.digest}\n`).join(''));
