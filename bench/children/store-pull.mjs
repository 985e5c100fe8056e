// The fresh-process probe of the `store-pull` scenario (its timed containerkit side is an in-process call): plain JS
// over the built dist/, run once under GNU time for the peak RSS of a pull. Opens an ImageStore on DIR (an empty
// directory: the store makes it an OCI layout), pulls REF (resolve, fetch every blob verified into the ingest area,
// commit into blobs/, record the name in index.json) and prints the manifest digest. With --again it pulls a second
// time and prints that pull's wall time in ms on stderr (the re-pull of a present image).
import { ImageStore } from '../../dist/images/index.js';
import { RegistryClient } from '../../dist/registry/index.js';

const [ref, dir, again] = process.argv.slice(2);
if (ref === undefined || dir === undefined) {
  process.stderr.write('usage: node bench/children/store-pull.mjs REF DIR [--again]\n');
  process.exit(2);
}
const client = new RegistryClient();
const store = await ImageStore.open(dir, { registry: client });
const record = await store.pull(ref);
if (again === '--again') {
  const start = process.hrtime.bigint();
  await store.pull(ref);
  process.stderr.write(`re-pull ms ${Number(process.hrtime.bigint() - start) / 1e6}\n`);
}
client.close();
process.stdout.write(`${record.target.digest}\n`);
