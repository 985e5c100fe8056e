import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { type EngineEvent, EventsLog } from '../../../lib/engine/events-log.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = resolve(import.meta.dirname, '../../..');

function appender(root: string, count: number, tag: string, maxBytes: number, go?: string): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/engine-events-child.ts', root, String(count), tag, String(maxBytes), ...(go ? [go] : [])],
    {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((res, rej) => child.once('exit', (code) => (code === 0 ? res() : rej(new Error(`appender ${tag} exited ${code}: ${err}`)))));
}

async function collect(it: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('engine/events-log', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('engine-events');
  });
  afterEach(() => removeTempDir(root));

  it('appends docker-shaped events and reads them back, filtered by since and until', async () => {
    const log = await EventsLog.open(root);
    const first = await log.append({ Type: 'container', Action: 'create', Actor: { ID: 'c1', Attributes: { name: 'web', image: 'busybox' } } });
    expect(first).to.include({ Type: 'container', Action: 'create', scope: 'local' });
    expect(first.time).to.equal(Math.floor(first.timeNano / 1e9));
    expect(Math.abs(first.timeNano / 1e6 - Date.now())).to.be.lessThan(1000);
    await sleep(30);
    const mid = new Date();
    await sleep(30);
    await log.append({ Type: 'container', Action: 'die', Actor: { ID: 'c1', Attributes: { exitCode: '137' } } });
    await sleep(30);
    const late = new Date();
    await sleep(30);
    await log.append({ Type: 'image', Action: 'pull', Actor: { ID: 'busybox:latest' } });

    const all = await collect(log.read());
    expect(all.map((e) => e.Action)).to.deep.equal(['create', 'die', 'pull']);
    expect(all[1]!.Actor).to.deep.equal({ ID: 'c1', Attributes: { exitCode: '137' } });
    expect(all[2]!.Actor.Attributes).to.deep.equal({});
    expect((await collect(log.read({ since: mid }))).map((e) => e.Action)).to.deep.equal(['die', 'pull']);
    expect((await collect(log.read({ until: mid }))).map((e) => e.Action)).to.deep.equal(['create']);
    expect((await collect(log.read({ since: mid, until: late }))).map((e) => e.Action)).to.deep.equal(['die']);
    expect((await codedRejection(log.append({ Type: 'container', Action: 'explode' as 'die', Actor: { ID: 'x' } }))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(log.read({ since: new Date('nope') }).next())).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('keeps every line under PIPE_BUF, cutting long attributes', async () => {
    const log = await EventsLog.open(root);
    await log.append({ Type: 'container', Action: 'create', Actor: { ID: 'c', Attributes: { name: 'n', label: 'x'.repeat(10_000) } } });
    const attrs = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`label${i}`, 'y'.repeat(200)]));
    await log.append({ Type: 'container', Action: 'create', Actor: { ID: 'd', Attributes: { ...attrs, name: 'kept', exitCode: '0' } } });
    const lines = (await readFile(log.path, 'utf8')).split('\n').filter(Boolean);
    for (const l of lines) expect(Buffer.byteLength(l) + 1).to.be.at.most(4096);
    const [a, b] = await collect(log.read());
    expect(a!.Actor.Attributes.label).to.have.length(256);
    expect(b!.Actor.Attributes).to.deep.equal({ name: 'kept', exitCode: '0' });
  });

  it('skips hostile, torn and foreign lines without crashing', async () => {
    const log = await EventsLog.open(root);
    await log.append({ Type: 'container', Action: 'start', Actor: { ID: 'ok1' } });
    const good = JSON.parse((await readFile(log.path, 'utf8')).trim()) as EngineEvent;
    await appendFile(
      log.path,
      [
        'not json',
        '{}',
        'null',
        '[1,2]',
        JSON.stringify({ ...good, Action: 'launch' }),
        JSON.stringify({ ...good, time: 'x' }),
        JSON.stringify({ ...good, Actor: { ID: 7 } }),
        `{"Type":"container","Action":"start","Actor":{"ID":"proto","Attributes":{"__proto__":{"polluted":"yes"},"n":1,"ok":"v"}},"time":1,"timeNano":1000000000}`,
        'x'.repeat(100_000),
        '',
      ].join('\n') + '\n',
    );
    await log.append({ Type: 'container', Action: 'start', Actor: { ID: 'ok2' } });
    await appendFile(log.path, '{"Type":"container","Action":"st'); // torn by a crash mid-write
    const events = await collect(log.read());
    expect(events.map((e) => e.Actor.ID)).to.deep.equal(['ok1', 'proto', 'ok2']);
    expect(events[1]!.Actor.Attributes).to.deep.equal({ ok: 'v' });
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('two processes appending at once: every line intact, none lost; the log stays under its cap', async () => {
    const go = join(root, 'go');
    const both = Promise.all([appender(root, 400, 'aa', 1 << 24, go), appender(root, 400, 'bb', 1 << 24, go)]);
    await sleep(1500);
    await writeFile(go, '');
    await both;
    const log = await EventsLog.open(root, { maxBytes: 1 << 24 });
    const raw = (await readFile(log.path, 'utf8')).split('\n');
    expect(raw.pop()).to.equal('');
    expect(raw).to.have.length(800);
    const events = await collect(log.read());
    expect(events).to.have.length(800);
    for (const tag of ['aa', 'bb']) {
      const seqs = events.filter((e) => e.Actor.Attributes.tag === tag).map((e) => Number(e.Actor.Attributes.seq));
      expect(seqs).to.deep.equal([...Array(400).keys()]);
      for (const e of events) expect(e.Actor.Attributes.pad).to.match(/^(aa)+$|^(bb)+$/);
    }

    const capped = await makeTempDir('engine-events-cap');
    try {
      const start = join(capped, 'go');
      const writers = Promise.all([appender(capped, 300, 'cc', 64 * 1024, start), appender(capped, 300, 'dd', 64 * 1024, start)]);
      await sleep(1500);
      await writeFile(start, '');
      await writers;
      const small = await EventsLog.open(capped, { maxBytes: 64 * 1024 });
      const sizes = await Promise.all([small.path, `${small.path}.1`].map(async (p) => (await stat(p)).size));
      for (const size of sizes) expect(size).to.be.at.most(64 * 1024 + 2 * 4096);
      const kept = await collect(small.read());
      expect(kept.length).to.be.greaterThan(10);
      expect(kept.length).to.be.lessThan(600);
      // What is kept is the newest part: the last event, and for each process a run of its events without a gap.
      expect(Number(kept.at(-1)!.Actor.Attributes.seq)).to.equal(299);
      for (const tag of ['cc', 'dd']) {
        const seqs = kept.filter((e) => e.Actor.Attributes.tag === tag).map((e) => Number(e.Actor.Attributes.seq));
        seqs.forEach((seq, i) => {
          if (i > 0) expect(seq).to.equal(seqs[i - 1]! + 1);
        });
      }
    } finally {
      await removeTempDir(capped);
    }
  });

  it("follow sees another process's appends, across rotations, and ends on abort", async () => {
    const log = await EventsLog.open(root, { pollMs: 20, maxBytes: 128 * 1024 });
    await log.append({ Type: 'image', Action: 'tag', Actor: { ID: 'before' } });
    const ac = new AbortController();
    const seen: EngineEvent[] = [];
    const following = (async () => {
      for await (const e of log.read({ follow: true, signal: ac.signal })) {
        seen.push(e);
        if (seen.length === 201) ac.abort();
      }
    })();
    // 200 events of ~1.5 KiB on average: two rotations of a 128 KiB log.
    await appender(root, 200, 'ee', 128 * 1024);
    const guard = setTimeout(() => ac.abort(), 10_000); // a follower that missed events fails below, not by hanging
    await following;
    clearTimeout(guard);
    expect(seen[0]!.Actor.ID).to.equal('before');
    expect(seen.slice(1).map((e) => Number(e.Actor.Attributes.seq))).to.deep.equal([...Array(200).keys()]);

    const quiet = new AbortController();
    setTimeout(() => quiet.abort(), 100);
    const all = await collect(log.read({ follow: true, signal: quiet.signal }));
    expect(all.length).to.be.greaterThan(0); // ended quietly on abort, with what was stored

    const until = new Date(Date.now() + 150);
    const bounded = await collect(log.read({ follow: true, until, since: new Date() }));
    expect(bounded).to.deep.equal([]); // ended by itself once `until` passed
  });
});
