import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { acquireLock, type LockOwner, withLock } from '../../../lib/util/lock.js';
import { parseProcStat, readBootId, readProcessIdentity } from '../../../lib/util/proc.js';
import { rejection } from '../../fixtures/assert.js';

const REPO = resolve(import.meta.dirname, '../../..');
const LOCK_MODULE = pathToFileURL(join(REPO, 'lib/util/lock.ts')).href;

/** Runs a TypeScript ESM script with tsx from the repo root (so `--import tsx` resolves). */
function runScript(file: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res(child.exitCode);
    else child.once('exit', (code) => res(code));
  });
}

function collect(child: ChildProcess): { out: () => string } {
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  return { out: () => text };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('util/lock', function () {
  this.timeout(60_000);
  let dir: string;
  let lockPath: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ck-lock-'));
    lockPath = join(dir, 'x.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function ownerRecord(overrides: Partial<LockOwner>): Promise<string> {
    const me = await readProcessIdentity(process.pid);
    const record: LockOwner = {
      pid: process.pid,
      start: me!.start,
      boot: await readBootId(),
      host: hostname(),
      created: new Date().toISOString(),
      token: 'feedfacefeedface',
      ...overrides,
    };
    return JSON.stringify(record);
  }

  it('writes an owner record, and release removes it', async () => {
    const lock = await acquireLock(lockPath);
    const onDisk = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
    expect(onDisk.pid).to.equal(process.pid);
    expect(onDisk.start).to.equal((await readProcessIdentity(process.pid))!.start);
    expect(onDisk).to.deep.equal(lock.owner);
    await lock.release();
    await lock.release();
    expect(lock.released).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('is released by await using', async () => {
    {
      await using lock = await acquireLock(lockPath);
      expect(lock.released).to.equal(false);
      expect(existsSync(lockPath)).to.equal(true);
    }
    expect(existsSync(lockPath)).to.equal(false);
  });

  it('excludes three child processes incrementing a counter (no lost updates), starting from a stale lock', async () => {
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    writeFileSync(lockPath, await ownerRecord({ pid: deadPid() }));
    const script = join(dir, 'worker.mts');
    writeFileSync(
      script,
      `
      import { readFile, writeFile } from 'node:fs/promises';
      import { withLock } from ${JSON.stringify(LOCK_MODULE)};
      const [lockPath, counter, n] = process.argv.slice(2);
      for (let i = 0; i < Number(n); i++) {
        await withLock(lockPath, async () => {
          const v = Number(await readFile(counter, 'utf8'));
          await new Promise((r) => setTimeout(r, 1));
          await writeFile(counter, String(v + 1));
        }, { pollMs: 2 });
      }
    `,
    );
    const n = 150;
    const children = [0, 1, 2].map(() => runScript(script, [lockPath, counter, String(n)]));
    const outputs = children.map(collect);
    const codes = await Promise.all(children.map(exited));
    expect(codes, outputs.map((o) => o.out()).join('\n')).to.deep.equal([0, 0, 0]);
    expect(Number(readFileSync(counter, 'utf8'))).to.equal(3 * n);
    expect(readdirSync(dir).sort()).to.deep.equal(['counter', 'worker.mts']);
  });

  it('takes over quickly from a holder killed with SIGKILL', async () => {
    const script = join(dir, 'holder.mts');
    writeFileSync(
      script,
      `
      import { acquireLock } from ${JSON.stringify(LOCK_MODULE)};
      await acquireLock(process.argv[2]);
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `,
    );
    const child = runScript(script, [lockPath]);
    await new Promise<void>((res, rej) => {
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('locked') && res());
      child.once('exit', () => rej(new Error('holder exited early')));
    });
    const holder = JSON.parse(readFileSync(lockPath, 'utf8')) as LockOwner;
    expect(holder.pid).to.equal(child.pid);
    expect(await rejection(acquireLock(lockPath, { timeoutMs: 100 }))).to.have.property('code', 'ERR_LOCK_TIMEOUT');
    child.kill('SIGKILL'); // not awaited: the dying or zombie holder must count as dead too
    const t0 = Date.now();
    const lock = await acquireLock(lockPath, { timeoutMs: 5000, pollMs: 10 });
    expect(Date.now() - t0).to.be.below(1000);
    expect(lock.owner.pid).to.equal(process.pid);
    await lock.release();
    await exited(child);
  });

  it('treats a live pid with a different start time as stale (pid reuse)', async () => {
    const me = await readProcessIdentity(process.pid);
    writeFileSync(lockPath, await ownerRecord({ start: me!.start + 1 }));
    const lock = await acquireLock(lockPath, { timeoutMs: 500 });
    expect(lock.owner.token).to.not.equal('feedfacefeedface');
    await lock.release();
  });

  it('treats an owner from another boot and a dead pid as stale', async () => {
    writeFileSync(lockPath, await ownerRecord({ boot: '00000000-0000-0000-0000-000000000000' }));
    await (await acquireLock(lockPath, { timeoutMs: 500 })).release();
    writeFileSync(lockPath, await ownerRecord({ pid: deadPid() }));
    await (await acquireLock(lockPath, { timeoutMs: 500 })).release();
  });

  it('treats a zombie holder as dead', async () => {
    // perl forks a child that exits at once and never reaps it: a zombie until perl ends (perl-base is Essential).
    const perl = 'my $p = fork // die; if ($p == 0) { exit 0 } $| = 1; print "$p\\n"; sleep 10';
    const parent = spawn('perl', ['-e', perl], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((res) => parent.stdout.once('data', (c: Buffer) => res(c.toString()))));
    let id = await readProcessIdentity(pid);
    for (let i = 0; i < 300 && id?.state !== 'Z'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      id = await readProcessIdentity(pid);
    }
    try {
      expect(id?.state).to.equal('Z');
      writeFileSync(lockPath, await ownerRecord({ pid, start: id!.start }));
      await (await acquireLock(lockPath, { timeoutMs: 500 })).release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('times out on a live holder, naming its pid', async () => {
    const held = await acquireLock(lockPath);
    const t0 = Date.now();
    const err = await rejection(acquireLock(lockPath, { timeoutMs: 200, pollMs: 20 }));
    expect(Date.now() - t0).to.be.within(190, 1500);
    expect(err).to.have.property('code', 'ERR_LOCK_TIMEOUT');
    expect(err).to.have.property('category', 'Unavailable');
    expect((err as Error).message).to.contain(`pid ${process.pid}`);
    expect((err.details as { holder: LockOwner }).holder.token).to.equal(held.owner.token);
    await held.release();
  });

  it('waits for the holder to release', async () => {
    const held = await acquireLock(lockPath);
    setTimeout(() => void held.release(), 100);
    const lock = await acquireLock(lockPath, { timeoutMs: 5000, pollMs: 10 });
    expect(lock.owner.token).to.not.equal(held.owner.token);
    await lock.release();
  });

  it('rejects with signal.reason on abort, and on an already-aborted signal', async () => {
    const held = await acquireLock(lockPath);
    const ac = new AbortController();
    const reason = new Error('cancelled');
    setTimeout(() => ac.abort(reason), 50);
    expect(await rejection(acquireLock(lockPath, { signal: ac.signal }))).to.equal(reason);
    await held.release();
    const before = new Error('before');
    expect(await rejection(acquireLock(lockPath, { signal: AbortSignal.abort(before) }))).to.equal(before);
    expect(existsSync(lockPath)).to.equal(false);
  });

  it('waits on a fresh unparseable lock file but breaks an old one', async () => {
    writeFileSync(lockPath, '');
    const err = await rejection(acquireLock(lockPath, { timeoutMs: 150, staleGraceMs: 10_000 }));
    expect(err).to.have.property('code', 'ERR_LOCK_TIMEOUT');
    writeFileSync(lockPath, '{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath, old, old);
    await (await acquireLock(lockPath, { timeoutMs: 500, staleGraceMs: 10_000 })).release();
  });

  it('lets exactly one of many concurrent waiters break a stale lock at a time', async () => {
    writeFileSync(lockPath, await ownerRecord({ pid: deadPid() }));
    // A stale break guard left by a breaker that died mid-break must not block anyone either.
    writeFileSync(`${lockPath}.break`, await ownerRecord({ pid: deadPid(), token: 'deaddeaddeaddead' }));
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        withLock(
          lockPath,
          async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await new Promise((r) => setTimeout(r, 3));
            inside--;
          },
          { pollMs: 2 },
        ),
      ),
    );
    expect(maxInside).to.equal(1);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('release leaves a lock file that is no longer its own', async () => {
    const lock = await acquireLock(lockPath);
    const other = await ownerRecord({ token: 'someoneelse00000' });
    writeFileSync(lockPath, other);
    await lock.release();
    expect(readFileSync(lockPath, 'utf8')).to.equal(other);
  });

  it('withLock returns the result, passes errors through and always releases', async () => {
    expect(await withLock(lockPath, () => 42)).to.equal(42);
    const boom = new Error('boom');
    expect(
      await rejection(
        withLock(lockPath, () => {
          throw boom;
        }),
      ),
    ).to.equal(boom);
    expect(existsSync(lockPath)).to.equal(false);
  });

  it('reads the start time (field 22) even when the command name holds spaces and parentheses', () => {
    // Fields 3..52 after the name; field 22 (start time) is 987654.
    const rest = Array.from({ length: 50 }, (_, i) => (i === 0 ? 'S' : i === 19 ? '987654' : String(i)));
    expect(parseProcStat(`4242 (evil) S 1 (x) y) ${rest.join(' ')}\n`)).to.deep.equal({ pid: 4242, start: 987654, state: 'S' });
    expect(parseProcStat('garbage')).to.equal(undefined);
  });

  it('validates options and reports a missing directory', async () => {
    expect(await rejection(acquireLock(lockPath, { pollMs: 0 }))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(acquireLock(lockPath, { timeoutMs: -1 }))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(acquireLock(''))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
    expect(await rejection(acquireLock(join(dir, 'no', 'x.lock')))).to.have.property('code', 'ERR_NOT_FOUND');
  });
});
