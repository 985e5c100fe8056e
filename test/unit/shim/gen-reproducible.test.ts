import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

describe('shim: generated code', () => {
  it('lib/gen is exactly what `buf generate` makes from proto/ (offline, buf and ts-proto from npm)', async function () {
    this.timeout(60_000);
    const dir = await makeTempDir('gen');
    try {
      // -o prefixes buf.gen.yaml's `out` (lib/gen) with the temp dir.
      await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'buf'), ['generate', '-o', dir], { cwd: ROOT });
      const fresh = join(dir, 'lib', 'gen');
      const committed = join(ROOT, 'lib', 'gen');
      const freshFiles = (await listFiles(fresh)).map((f) => relative(fresh, f));
      expect(freshFiles).to.deep.equal((await listFiles(committed)).map((f) => relative(committed, f)));
      for (const file of freshFiles) {
        expect(await readFile(join(fresh, file), 'utf8'), file).to.equal(await readFile(join(committed, file), 'utf8'));
      }
    } finally {
      await removeTempDir(dir);
    }
  });
});
