import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { SHIM_LOG_LINE_MAX, ShimLogSink } from '../../../lib/shim/shim-log.js';
import { createFifo, openFifo } from '../../../lib/util/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

async function write(socket: Socket, bytes: Buffer | string): Promise<void> {
  if (!socket.write(bytes)) await once(socket, 'drain');
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ShimLogSink: a peer cannot make it hold an unbounded line', () => {
  let dir: string;
  let reader: Socket;
  let writer: Socket;
  let lines: Array<{ line: string; partial: boolean }>;
  let sink: ShimLogSink;

  beforeEach(async () => {
    dir = await makeTempDir('shimlog');
    const fifo = join(dir, 'log');
    await createFifo(fifo);
    // As the manager opens a shim's log FIFO: read-write, so it never sees EOF between writers.
    reader = await openFifo(fifo, 'rw');
    writer = await openFifo(fifo, 'w');
    lines = [];
    sink = new ShimLogSink(join(dir, 'shim.log'), 'test', 64 * 1024 * 1024, { onLine: (line, partial) => lines.push({ line, partial }) });
    sink.attach(reader);
  });
  afterEach(async () => {
    writer.destroy();
    reader.destroy();
    await removeTempDir(dir);
  });

  it('hands on 1 MiB without a newline in 16 KiB pieces marked partial, before any newline comes; the file gets every byte', async () => {
    const mib = 1024 * 1024;
    for (let i = 0; i < 16; i++) await write(writer, 'x'.repeat(mib / 16));
    // All of it arrives as partial pieces while the line is still open: only less than one piece is held back.
    await until(() => lines.length === mib / SHIM_LOG_LINE_MAX - 1, 'the partial pieces');
    expect(lines.every((l) => l.partial && l.line.length === SHIM_LOG_LINE_MAX)).to.equal(true);
    await write(writer, 'tail\nnext\n');
    await until(() => lines.length === mib / SHIM_LOG_LINE_MAX + 2, 'the end of the line');
    // The line's last piece: what was held back plus its end, again cut at the cap.
    expect(lines.slice(-3)).to.deep.equal([
      { line: 'x'.repeat(SHIM_LOG_LINE_MAX), partial: true },
      { line: 'tail', partial: false },
      { line: 'next', partial: false },
    ]);
    expect(lines.map((l) => l.line).join('')).to.equal(`${'x'.repeat(mib)}tailnext`);
    await sink.flush();
    expect(await readFile(join(dir, 'shim.log'), 'utf8')).to.equal(`${'x'.repeat(mib)}tail\nnext\n`);
  });

  it('keeps a character whole when its bytes come in two reads, and never cuts a surrogate pair', async () => {
    let chunks = 0;
    reader.on('data', () => chunks++);
    const euro = Buffer.from('€');
    await write(writer, Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]));
    await until(() => chunks === 1, 'the first read');
    await write(writer, Buffer.concat([euro.subarray(2), Buffer.from('b\n')]));
    await until(() => lines.length === 1, 'the line');
    expect(lines[0]).to.deep.equal({ line: 'a€b', partial: false });

    // An emoji (two UTF-16 units) right at the cut: the piece ends before it.
    lines = [];
    await write(writer, `${'y'.repeat(SHIM_LOG_LINE_MAX - 1)}\u{1F600}${'z'.repeat(SHIM_LOG_LINE_MAX)}`);
    await until(() => lines.length === 2, 'two pieces');
    expect(lines[0]).to.deep.equal({ line: 'y'.repeat(SHIM_LOG_LINE_MAX - 1), partial: true });
    expect(lines[1]!.line.startsWith('\u{1F600}')).to.equal(true);
    await sink.flush();
    expect(await readFile(join(dir, 'shim.log'), 'utf8')).to.not.include('\uFFFD');
  });
});
