// The containerkit side of the `digest` scenario: plain JS on the built dist/, so no TypeScript transpiling
// lands in the timing. Prints `sha256:<hex>` of the file named by its one argument.
import { digestFile } from '../../dist/util/digest-stream.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node bench/children/digest.mjs FILE\n');
  process.exit(2);
}
const { algorithm, hex } = await digestFile(file);
process.stdout.write(`${algorithm}:${hex}\n`);
