import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createFifo, createFifos, openFifo, removeFifo } from '../../../lib/util/fifo.js';
import { rejection } from '../../fixtures/assert.js';

/** Everything a socket yields until 'end'. */
function drain(sock: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.once('end', () => resolve(Buffer.concat(chunks)));
    sock.once('error', reject);
  });
}

function closed(sock: Socket): Promise<void> {
  return new Promise((resolve) => (sock.destroyed ? resolve() : sock.once('close', () => resolve())));
}

describe('util/fifo', () => {
  let dir: string;
  const sockets: Socket[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ck-fifo-'));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string, mode: 'r' | 'w' | 'rw'): Promise<Socket> {
    const s = await openFifo(path, mode);
    sockets.push(s);
    return s;
  }

  it('creates a FIFO with mode 0600, refuses to create it twice, and removes it', async () => {
    const p = join(dir, 'f');
    await createFifo(p);
    const st = lstatSync(p);
    expect(st.isFIFO()).to.equal(true);
    expect(st.mode & 0o777).to.equal(0o600);
    expect(await rejection(createFifo(p))).to.have.property('code', 'ERR_ALREADY_EXISTS');
    await createFifo(join(dir, 'g'), { mode: 0o640 });
    expect(lstatSync(join(dir, 'g')).mode & 0o777).to.equal(0o640);
    await removeFifo(p);
    await removeFifo(join(dir, 'g'));
    await removeFifo(p); // already gone: nothing to do
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(await rejection(createFifo(join(dir, 'no', 'f')))).to.have.property('code', 'ERR_NOT_FOUND');
  });

  it('creates several FIFOs with one mkfifo, and none of them when one path is taken', async () => {
    const paths = ['a', 'b', 'c'].map((n) => join(dir, n));
    await createFifos(paths);
    for (const p of paths) expect(lstatSync(p).isFIFO()).to.equal(true);
    writeFileSync(join(dir, 'taken'), 'x');
    const mixed = [join(dir, 'd'), join(dir, 'taken'), join(dir, 'e')];
    const err = await rejection(createFifos(mixed));
    expect(err).to.have.property('code', 'ERR_ALREADY_EXISTS');
    expect((err as { details?: { path?: string } }).details?.path).to.equal(join(dir, 'taken'));
    expect(readdirSync(dir).sort()).to.deep.equal(['a', 'b', 'c', 'taken']); // d and e were removed again
    expect(await rejection(createFifos([]))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
  });

  it('refuses to open or remove something that is not a FIFO', async () => {
    const file = join(dir, 'regular');
    writeFileSync(file, 'keep me');
    expect(await rejection(openFifo(file, 'r'))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(openFifo(file, 'w'))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(removeFifo(file))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(existsSync(file)).to.equal(true);
    expect(await rejection(openFifo(join(dir, 'missing'), 'r'))).to.have.property('code', 'ERR_NOT_FOUND');
    expect(await rejection(openFifo(file, 'x' as 'r'))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(createFifo(join(dir, 'm'), { mode: 0o1777 }))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
  });

  it('carries 3 MiB from a writer socket to a reader socket, which sees end when the writer closes', async () => {
    const p = join(dir, 'data');
    await createFifo(p);
    const reader = await open(p, 'r');
    const writer = await open(p, 'w');
    const payload = randomBytes(3 << 20);
    const received = drain(reader);
    writer.end(payload);
    expect((await received).equals(payload)).to.equal(true);
    await closed(writer);
  });

  it('opens a reader before any writer exists, without a spurious end', async () => {
    const p = join(dir, 'early');
    await createFifo(p);
    const reader = await open(p, 'r');
    let ended = false;
    const received = drain(reader).finally(() => (ended = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(ended).to.equal(false);
    const writer = await open(p, 'w');
    writer.end('hello');
    expect((await received).toString()).to.equal('hello');
  });

  it('makes a write-only open wait for a reader, and lets the wait be aborted', async () => {
    const p = join(dir, 'wait');
    await createFifo(p);
    let opened = false;
    const pending = openFifo(p, 'w').then((s) => {
      opened = true;
      sockets.push(s);
      return s;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(opened).to.equal(false);
    const reader = await open(p, 'r');
    const writer = await pending;
    const received = drain(reader);
    writer.end('late reader');
    expect((await received).toString()).to.equal('late reader');
    await closed(reader); // 'end' comes before the fd is closed; until then a writer would find a reader

    const ac = new AbortController();
    const reason = new Error('no reader came');
    setTimeout(() => ac.abort(reason), 50);
    expect(await rejection(openFifo(join(dir, 'wait'), 'w', { signal: ac.signal }))).to.equal(reason);
    expect(await rejection(openFifo(p, 'w', { signal: AbortSignal.abort(reason) }))).to.equal(reason);
  });

  it('gives the writer EPIPE when the reader goes away', async () => {
    const p = join(dir, 'pipe');
    await createFifo(p);
    const reader = await open(p, 'r');
    const writer = await open(p, 'w');
    reader.destroy();
    await closed(reader);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      writer.once('error', resolve);
      writer.write('nobody listens');
    });
    expect(err.code).to.equal('EPIPE');
  });

  it("reads across writers coming and going through an 'rw' handle, which never sees end", async () => {
    const p = join(dir, 'held');
    await createFifo(p);
    const reader = await open(p, 'rw'); // never waits, and counts as a writer itself
    let ended = false;
    reader.once('end', () => (ended = true));
    let text = '';
    reader.on('data', (c: Buffer) => (text += c.toString()));
    const w1 = await open(p, 'w');
    w1.end('first ');
    await closed(w1);
    await new Promise((r) => setTimeout(r, 100));
    const w2 = await open(p, 'w');
    w2.end('second');
    await closed(w2);
    for (let i = 0; i < 100 && text.length < 12; i++) await new Promise((r) => setTimeout(r, 10));
    expect(text).to.equal('first second');
    expect(ended).to.equal(false);
  });

  it('keeps fs usable while 6 FIFO readers wait (no libuv pool thread held)', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'plain file');
    const paths = Array.from({ length: 6 }, (_, i) => join(dir, `f${i}`));
    for (const p of paths) await createFifo(p);
    const readers = await Promise.all(paths.map((p) => open(p, 'r')));
    const received = readers.map(drain);
    await new Promise((r) => setTimeout(r, 50));
    // With four pool threads, six blocked fs reads would starve these; with sockets they complete at once.
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) expect(await readFile(file, 'utf8')).to.equal('plain file');
    expect(Date.now() - t0).to.be.below(1000);
    for (const [i, p] of paths.entries()) (await open(p, 'w')).end(`fifo ${i}`);
    expect((await Promise.all(received)).map(String)).to.deep.equal(paths.map((_, i) => `fifo ${i}`));
    for (const p of paths) await removeFifo(p);
    expect(readdirSync(dir)).to.deep.equal(['plain']);
  });

  it('(control) the same 6 FIFOs read through fs streams do starve fs', async () => {
    // Shows the previous test measures something: fs.createReadStream opens each FIFO in a pool thread, which
    // blocks until a writer comes; four of them exhaust the pool and readFile never runs.
    const file = join(dir, 'plain');
    writeFileSync(file, 'plain file');
    const paths = Array.from({ length: 6 }, (_, i) => join(dir, `s${i}`));
    for (const p of paths) await createFifo(p);
    const script = `
      const fs = require('node:fs');
      const [file, ...fifos] = process.argv.slice(1);
      for (const f of fifos) fs.createReadStream(f).on('data', () => {});
      setTimeout(() => {
        const timer = setTimeout(() => console.log('starved'), 1000);
        fs.readFile(file, () => { clearTimeout(timer); console.log('served'); });
      }, 100);
    `;
    const child = spawn(process.execPath, ['-e', script, file, ...paths], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
      expect(line).to.equal('starved');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
