import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from '../../../lib/util/atomic-file.js';
import { rejection } from '../../fixtures/assert.js';

const REPO = resolve(import.meta.dirname, '../../..');

describe('util/atomic-file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ck-atomic-'));
    file = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates and replaces a file, leaving no temp file', async () => {
    await writeFileAtomic(file, 'one');
    expect(readFileSync(file, 'utf8')).to.equal('one');
    await writeFileAtomic(file, Buffer.from('two'), { fsync: false });
    expect(readFileSync(file, 'utf8')).to.equal('two');
    await writeFileAtomic(file, new Uint8Array(0));
    expect(readFileSync(file, 'utf8')).to.equal('');
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
  });

  it('applies the mode exactly, whatever the umask', async () => {
    await writeFileAtomic(file, 'x');
    expect(statSync(file).mode & 0o7777).to.equal(0o644);
    await writeFileAtomic(file, 'x', { mode: 0o600 });
    expect(statSync(file).mode & 0o7777).to.equal(0o600);
    await writeFileAtomic(file, 'x', { mode: 0o666 });
    expect(statSync(file).mode & 0o7777).to.equal(0o666);
  });

  it('keeps the old content and removes the temp file when the write fails midway (EFBIG)', async () => {
    writeFileSync(file, 'old content');
    const script = join(dir, 'writer.mts');
    const mod = pathToFileURL(join(REPO, 'lib/util/atomic-file.ts')).href;
    writeFileSync(
      script,
      `
      import { writeFileAtomic } from ${JSON.stringify(mod)};
      try {
        await writeFileAtomic(process.argv[2], Buffer.alloc(3 << 20, 0x61));
        console.log(JSON.stringify({ ok: true }));
      } catch (err) {
        console.log(JSON.stringify({ code: err.code, errno: err.details?.errno }));
      }
    `,
    );
    // A 1 MiB file-size limit makes the kernel fail the temp file's write part way (Node ignores SIGXFSZ).
    const child = spawn('prlimit', [`--fsize=${1 << 20}`, process.execPath, '--import', 'tsx', script, file], { cwd: REPO });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise((res) => child.once('exit', res));
    expect(code, out).to.equal(0);
    expect(JSON.parse(out.trim().split('\n').pop()!)).to.deep.equal({ code: 'ERR_IO', errno: 'EFBIG' });
    expect(readFileSync(file, 'utf8')).to.equal('old content');
    expect(readdirSync(dir).sort()).to.deep.equal(['state.json', 'writer.mts']);
  });

  it('keeps the old content when aborted during a large write, and rejects with signal.reason', async () => {
    writeFileSync(file, 'old');
    const ac = new AbortController();
    const reason = new Error('stop');
    const p = writeFileAtomic(file, Buffer.alloc(64 << 20), { signal: ac.signal });
    setImmediate(() => ac.abort(reason));
    expect(await rejection(p)).to.equal(reason);
    expect(readFileSync(file, 'utf8')).to.equal('old');
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
    const before = new Error('before');
    expect(await rejection(writeFileAtomic(file, 'new', { signal: AbortSignal.abort(before) }))).to.equal(before);
    expect(readFileSync(file, 'utf8')).to.equal('old');
  });

  it('leaves one complete version after concurrent writers', async () => {
    const versions = Array.from({ length: 20 }, (_, i) => String(i).repeat(10_000));
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    expect(versions).to.include(readFileSync(file, 'utf8'));
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
  });

  it('reports a missing directory and bad arguments', async () => {
    expect(await rejection(writeFileAtomic(join(dir, 'no', 'f'), 'x'))).to.have.property('code', 'ERR_NOT_FOUND');
    expect(await rejection(writeFileAtomic(file, 'x', { mode: 0o10000 }))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(writeFileAtomic(file, 42 as unknown as string))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    // A directory in the way: the rename fails, and nothing is left behind.
    const err = await rejection(writeFileAtomic(dir, 'x'));
    expect(err).to.have.property('code', 'ERR_IO');
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  describe('JSON', () => {
    it('round-trips through writeJsonAtomic and readJsonFile', async () => {
      const value = { id: 'abc', list: [1, 2, 3], nested: { ok: true } };
      await writeJsonAtomic(file, value);
      expect(readFileSync(file, 'utf8')).to.equal(`${JSON.stringify(value, null, 2)}\n`);
      expect(await readJsonFile(file)).to.deep.equal(value);
      await writeJsonAtomic(file, value, { space: 0 });
      expect(readFileSync(file, 'utf8')).to.equal(`${JSON.stringify(value)}\n`);
    });

    it('returns undefined for a missing file and ERR_CORRUPT_FILE for a truncated one', async () => {
      expect(await readJsonFile(join(dir, 'missing.json'))).to.equal(undefined);
      writeFileSync(file, '{"id": "ab');
      const err = await rejection(readJsonFile(file));
      expect(err).to.have.property('code', 'ERR_CORRUPT_FILE');
      expect(err).to.have.property('category', 'FailedPrecondition');
    });

    it('rejects values JSON cannot hold before writing', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(await rejection(writeJsonAtomic(file, cyclic))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
      expect(await rejection(writeJsonAtomic(file, undefined))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
      expect(readdirSync(dir)).to.deep.equal([]);
    });

    it('readJsonFile rejects with signal.reason', async () => {
      writeFileSync(file, '{}');
      const reason = new Error('stop');
      expect(await rejection(readJsonFile(file, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
    });
  });
});
