import { spawn } from 'node:child_process';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { expect } from 'chai';
import type { LogEntry } from '../../../lib/engine/log-lines.js';
import { type ReadLogOptions, readContainerLog } from '../../../lib/engine/log-reader.js';
import { buildShimLogger } from '../../../lib/shim/logger-build.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A record in the logger's format; times are seconds after a fixed base, with nanoseconds. */
function rec(stream: 'stdout' | 'stderr', log: string, second: number): string {
  const base = Date.UTC(2026, 11, 5, 10, 0, 0) / 1000 + second;
  const time = `${new Date(Math.floor(base) * 1000).toISOString().slice(0, 19)}.${String(Math.round((base % 1) * 1e9)).padStart(9, '0')}Z`;
  return `${JSON.stringify({ time, stream, log })}\n`;
}
const at = (second: number): Date => new Date(Date.UTC(2026, 11, 5, 10, 0, 0) + second * 1000);

async function lines(path: string, options: ReadLogOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readContainerLog(path, options)) out.push(`${e.stream[3]}:${e.line}`);
  return out;
}

describe('engine/log-reader', function () {
  this.timeout(60_000);
  let dir: string;
  let log: string;
  beforeEach(async () => {
    dir = await makeTempDir('engine-logs');
    log = join(dir, 'container.log');
  });
  afterEach(() => removeTempDir(dir));

  it('reads both streams in order, or one of them, with timestamps on request', async () => {
    await writeFile(log, rec('stdout', 'one\n', 1) + rec('stderr', 'oops\n', 2) + rec('stdout', 'two\n', 3) + rec('stdout', 'no newline', 4));
    expect(await lines(log)).to.deep.equal(['o:one\n', 'e:oops\n', 'o:two\n', 'o:no newline']);
    expect(await lines(log, { stderr: false })).to.deep.equal(['o:one\n', 'o:two\n', 'o:no newline']);
    expect(await lines(log, { stdout: false })).to.deep.equal(['e:oops\n']);
    const [first] = await (async () => {
      const all: LogEntry[] = [];
      for await (const e of readContainerLog(log, { timestamps: true })) all.push(e);
      return all;
    })();
    expect(first!.time).to.equal('2026-12-05T10:00:01.000000000Z');
    expect(first!.line).to.equal('2026-12-05T10:00:01.000000000Z one\n');
    expect(await lines(join(dir, 'missing.log'))).to.deep.equal([]);
    expect(() => readContainerLog(log, { stdout: false, stderr: false }))
      .to.throw()
      .with.property('code', 'ERR_INVALID_ARGUMENT');
    expect(() => readContainerLog(log, { tail: -1 }))
      .to.throw()
      .with.property('code', 'ERR_INVALID_ARGUMENT');
  });

  it('tail is exact across the rotation and per selected stream', async () => {
    let older = '';
    for (let i = 1; i <= 50; i++) older += rec('stdout', `line ${i}\n`, i) + (i % 10 === 0 ? rec('stderr', `err ${i}\n`, i + 0.5) : '');
    let current = '';
    for (let i = 51; i <= 60; i++) current += rec('stdout', `line ${i}\n`, i);
    await writeFile(`${log}.1`, older);
    await writeFile(log, current);
    const want = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, k) => `o:line ${from + k}\n`);
    expect(await lines(log, { tail: 15 })).to.deep.equal([...want(47, 50), 'e:err 50\n', ...want(51, 60)]);
    expect(await lines(log, { tail: 12 })).to.deep.equal([...want(50, 50), 'e:err 50\n', ...want(51, 60)].slice(-12));
    expect(await lines(log, { tail: 12, stderr: false })).to.deep.equal(want(49, 60));
    expect(await lines(log, { tail: 3, stdout: false })).to.deep.equal(['e:err 30\n', 'e:err 40\n', 'e:err 50\n']);
    expect(await lines(log, { tail: 0 })).to.deep.equal([]);
    expect(await lines(log, { tail: 1000 })).to.deep.equal(await lines(log));
    expect(await lines(log)).to.have.length(65);
    // since/until pick by time, then tail counts what is left.
    expect(await lines(log, { since: at(58) })).to.deep.equal(want(58, 60));
    expect(await lines(log, { until: at(2) })).to.deep.equal(want(1, 2));
    expect(await lines(log, { since: at(20), until: at(30), tail: 3, stderr: false })).to.deep.equal(want(28, 30));
    expect(await lines(log, { since: at(55), tail: 100 })).to.deep.equal(want(55, 60));
  });

  it('a line split into 16 KiB records counts once, joined per stream, also across the rotation', async () => {
    const x1 = 'x'.repeat(16384);
    const x2 = 'y'.repeat(16384);
    const x3 = 'z'.repeat(5000);
    await writeFile(`${log}.1`, rec('stdout', 'a\n', 1) + rec('stdout', x1, 2) + rec('stderr', 'e1\n', 3) + rec('stdout', x2, 4));
    await writeFile(log, rec('stderr', 'e2\n', 5) + rec('stdout', `${x3}\n`, 6) + rec('stderr', 'e3\n', 7));
    const long = `o:${x1}${x2}${x3}\n`;
    expect(await lines(log)).to.deep.equal(['o:a\n', 'e:e1\n', 'e:e2\n', long, 'e:e3\n']);
    expect(await lines(log, { tail: 1 })).to.deep.equal(['e:e3\n']);
    expect(await lines(log, { tail: 2 })).to.deep.equal([long, 'e:e3\n']);
    expect(await lines(log, { tail: 1, stderr: false })).to.deep.equal([long]);
    expect(await lines(log, { tail: 2, stderr: false })).to.deep.equal(['o:a\n', long]);
    expect(await lines(log, { tail: 4 })).to.deep.equal(['e:e1\n', 'e:e2\n', long, 'e:e3\n']);
  });

  it('skips torn and hostile lines', async () => {
    await writeFile(
      log,
      [
        rec('stdout', 'good 1\n', 1).trim(),
        'garbage',
        '{"time":"yesterday","stream":"stdout","log":"x\\n"}',
        '{"time":"2026-12-05T10:00:00Z","stream":"stdin","log":"x\\n"}',
        '{"time":"2026-12-05T10:00:00Z","stream":"stdout","log":7}',
        `{"log":"${'q'.repeat(300_000)}"}`,
        rec('stderr', 'good 2\n', 2).trim(),
        '{"time":"2026-12-05T10:00:03Z","stream":"stdout","lo', // torn
      ].join('\n'),
    );
    expect(await lines(log)).to.deep.equal(['o:good 1\n', 'e:good 2\n']);
    expect(await lines(log, { tail: 1 })).to.deep.equal(['e:good 2\n']);
    expect(await lines(log, { tail: 5 })).to.deep.equal(['o:good 1\n', 'e:good 2\n']);
  });

  it('follows new records and a rotation, joins a line it saw begin, and ends when the container is gone', async () => {
    await writeFile(log, rec('stdout', 'old 1\n', 1) + rec('stdout', 'old 2\n', 2) + rec('stdout', 'half ', 3));
    let gone!: () => void;
    const stopWhen = new Promise<void>((r) => (gone = r));
    const seen: string[] = [];
    const following = (async () => {
      for await (const e of readContainerLog(log, { tail: 1, follow: true, stopWhen, pollMs: 10 })) seen.push(`${e.stream[3]}:${e.line}`);
    })();
    await sleep(100);
    expect(seen).to.deep.equal(['o:old 2\n']); // the unfinished 'half ' waits for its end
    await appendFile(log, rec('stdout', 'done\n', 4) + rec('stderr', 'warn\n', 5));
    await sleep(100);
    await rename(log, `${log}.1`); // the logger's rotation
    await writeFile(log, rec('stdout', 'after rotation\n', 6));
    await sleep(100);
    await appendFile(log, rec('stdout', 'last words', 7));
    gone();
    await following;
    expect(seen).to.deep.equal(['o:old 2\n', 'o:half done\n', 'e:warn\n', 'o:after rotation\n', 'o:last words']);

    const ac = new AbortController();
    const got: string[] = [];
    setTimeout(() => ac.abort(), 150);
    for await (const e of readContainerLog(log, { follow: true, signal: ac.signal, pollMs: 10 })) got.push(e.line);
    // From the start of `.1`; an abort ends the follow quietly, the unfinished 'last words' unshown.
    expect(got).to.deep.equal(['old 1\n', 'old 2\n', 'half done\n', 'warn\n', 'after rotation\n']);
    const reason = new Error('stop');
    expect(await rejection(lines(log, { signal: AbortSignal.abort(reason) }))).to.equal(reason);
  });

  it('reads what the real C logger writes, following it through its rotations', async () => {
    const bin = await buildShimLogger(join(dir, 'bin'));
    const child = spawn(bin, ['path', log, 'max', String(64 * 1024)], { stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await new Promise<void>((r) => (child.stdio as unknown as Readable[])[5]!.once('close', r).resume()); // fd 5: ready
    const out = child.stdio[3] as Writable;
    const err = child.stdio[4] as Writable;
    const write = (w: Writable, text: string): Promise<void> => new Promise((r) => (w.write(text) ? r() : w.once('drain', r)));
    const seen: LogEntry[] = [];
    const following = (async () => {
      for await (const e of readContainerLog(log, { follow: true, stopWhen: exited, pollMs: 10 })) seen.push(e);
    })();
    const big = `${'é'.repeat(20_000)}\n`; // 40000 bytes: cut into three records between characters
    const expected: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      let text = '';
      for (let i = 0; i < 40; i++) text += `out ${batch}-${i} ${'.'.repeat(i * 3)}\n`;
      await write(out, text);
      expected.push(...text.split(/(?<=\n)/).map((l) => `o:${l}`));
      await write(err, `err ${batch}\n`);
      if (batch === 10) {
        await write(out, big);
        expected.push(`o:${big}`);
      }
      await sleep(40); // each stream's own order is what the logger keeps; let it write in between
    }
    await write(out, 'unterminated');
    expected.push('o:unterminated');
    out.end();
    err.end();
    await exited;
    await following;
    const got = seen.map((e) => `${e.stream[3]}:${e.line}`);
    expect(got.filter((l) => l.startsWith('o:'))).to.deep.equal(expected);
    expect(got.filter((l) => l.startsWith('e:'))).to.deep.equal(Array.from({ length: 20 }, (_, b) => `e:err ${b}\n`));
    for (const e of seen) expect(e.time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    // It rotated: the file holds the newest records only, yet the follower saw every line.
    expect((await readFile(`${log}.1`, 'utf8')).length).to.be.greaterThan(0);
    expect(await lines(log, { tail: 3, stderr: false })).to.deep.equal(expected.slice(-3));
    expect(await lines(log, { tail: 2, stdout: false })).to.deep.equal(['e:err 18\n', 'e:err 19\n']);
  });
});
