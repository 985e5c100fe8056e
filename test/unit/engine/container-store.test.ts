import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { ContainerStore, type NewContainer } from '../../../lib/engine/container-store.js';
import { ConflictError, NotFoundError } from '../../../lib/errors/index.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = resolve(import.meta.dirname, '../../..');
const CHILD = 'test/fixtures/engine-store-child.ts';
const image = { name: 'docker.io/library/busybox:latest', id: `sha256:${'b'.repeat(64)}` };

interface Outcome {
  ok: boolean;
  id?: string;
  name?: string;
  code?: string;
}

function runChild(root: string, go: string, args: string[]): { child: ChildProcess; outcome: Promise<Outcome> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, go, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const outcome = new Promise<Outcome>((res, rej) =>
    child.once('exit', () => {
      const line = out.trim().split('\n').pop();
      if (line) res(JSON.parse(line) as Outcome);
      else rej(new Error(`child printed nothing; stderr: ${err}`));
    }),
  );
  return { child, outcome };
}

/** Starts the children, lets them go at once, returns their outcomes. */
async function race(root: string, argvs: string[][]): Promise<Outcome[]> {
  const go = join(root, `go-${Math.random().toString(16).slice(2)}`);
  const runs = argvs.map((a) => runChild(root, go, a));
  // Give each child time to load tsx and open the store, so they really meet at the start line.
  await new Promise((r) => setTimeout(r, 1500));
  await writeFile(go, '');
  return Promise.all(runs.map((r) => r.outcome));
}

describe('engine/container-store', function () {
  this.timeout(60_000);
  let root: string;
  let store: ContainerStore;
  const input = (name?: string): NewContainer => ({ name, image, config: { cmd: ['sh'] } });

  beforeEach(async () => {
    root = await makeTempDir('engine-store');
    store = await ContainerStore.open(root);
  });
  afterEach(() => removeTempDir(root));

  it('creates a record on disk and finds it by id, name, /name and unique prefix', async () => {
    const made = await store.create(input('web'));
    expect(made.id).to.match(/^[0-9a-f]{64}$/);
    expect(made).to.include({ name: 'web', schemaVersion: 1 });
    expect(made.state).to.deep.equal({
      status: 'created',
      pid: 0,
      exitCode: 0,
      startedAt: '0001-01-01T00:00:00Z',
      finishedAt: '0001-01-01T00:00:00Z',
      error: '',
      oomKilled: false,
    });
    expect(existsSync(join(root, 'containers', made.id, 'record.json'))).to.equal(true);
    const other = await ContainerStore.open(root); // another Engine on the same root
    for (const ref of [made.id, 'web', '/web', made.id.slice(0, 12)]) expect((await other.resolve(ref)).id, ref).to.equal(made.id);
    expect(await other.get(made.id)).to.deep.equal(made);
    const missing = await codedRejection(other.resolve('nope'));
    expect(missing.code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect(missing).to.be.instanceOf(NotFoundError);
    expect((await codedRejection(other.get('a'.repeat(64)))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect((await codedRejection(other.resolve(''))).code).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('generates a name when none is given, and refuses an ambiguous prefix with a typed error', async () => {
    // 17 ids over 16 possible first characters: at least two share one.
    const made = await Promise.all(Array.from({ length: 17 }, () => store.create(input())));
    for (const r of made) expect(r.name).to.match(/^[a-z]+_[a-z]+[0-9]?$/);
    expect(new Set(made.map((r) => r.name)).size).to.equal(17);
    const first = new Map<string, string[]>();
    for (const r of made) first.set(r.id[0]!, [...(first.get(r.id[0]!) ?? []), r.id]);
    const [prefix, ids] = [...first].find(([, v]) => v.length > 1)!;
    const err = await codedRejection(store.resolve(prefix));
    expect(err.code).to.equal('ERR_AMBIGUOUS_CONTAINER_REFERENCE');
    expect((err.details.ids as string[]).sort()).to.deep.equal([...ids].sort());
    expect((await store.list()).map((r) => r.id).sort()).to.deep.equal(made.map((r) => r.id).sort());
  });

  it('a name is taken once: a second create gets ERR_NAME_IN_USE (Conflict) and leaves nothing behind', async () => {
    const first = await store.create(input('db'));
    for (const name of ['db', '/db']) {
      const err = await codedRejection(store.create(input(name)));
      expect(err.code).to.equal('ERR_NAME_IN_USE');
      expect(err).to.be.instanceOf(ConflictError);
      expect(err.details).to.include({ name: 'db', id: first.id });
    }
    expect((await codedRejection(store.create(input('no space')))).code).to.equal('ERR_INVALID_CONTAINER_NAME');
    expect(await readdir(join(root, 'containers'))).to.deep.equal([first.id]);
  });

  it('a create that fails after reserving releases the name and its directory', async () => {
    const err = await codedRejection(store.create({ name: 'big', image, config: { n: 1n } as unknown as NewContainer['config'] }));
    expect(err.code).to.equal('ERR_INVALID_ARGUMENT');
    expect(await readdir(join(root, 'containers'))).to.deep.equal([]);
    expect(await readdir(join(root, 'names'))).to.deep.equal([]);
    expect((await store.create(input('big'))).name).to.equal('big');
  });

  it('two processes creating the same name: exactly one wins, the other gets ERR_NAME_IN_USE', async () => {
    for (const name of ['raced', 'raced2']) {
      const outcomes = await race(root, [
        ['create', name],
        ['create', name],
      ]);
      const winners = outcomes.filter((o) => o.ok);
      expect(winners, JSON.stringify(outcomes)).to.have.length(1);
      expect(outcomes.find((o) => !o.ok)!.code).to.equal('ERR_NAME_IN_USE');
      expect((await store.resolve(name)).id).to.equal(winners[0]!.id);
    }
    expect(await store.list()).to.have.length(2);
    expect(await store.leftovers()).to.deep.equal([]);
  });

  it('renames atomically: the old name is freed, a taken name is refused, two racing renames to one name: one wins', async () => {
    const a = await store.create(input('alpha'));
    const b = await store.create(input('beta'));
    expect((await store.rename('alpha', '/gamma')).name).to.equal('gamma');
    expect((await store.resolve('gamma')).id).to.equal(a.id);
    expect((await codedRejection(store.resolve('alpha'))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect((await codedRejection(store.rename(b.id, 'gamma'))).code).to.equal('ERR_NAME_IN_USE');
    expect((await store.get(b.id)).name).to.equal('beta');
    expect((await store.create(input('alpha'))).name).to.equal('alpha');

    const outcomes = await race(root, [
      ['rename', 'gamma', 'delta'],
      ['rename', 'beta', 'delta'],
    ]);
    const winners = outcomes.filter((o) => o.ok);
    expect(winners, JSON.stringify(outcomes)).to.have.length(1);
    expect(outcomes.find((o) => !o.ok)!.code).to.equal('ERR_NAME_IN_USE');
    expect((await store.resolve('delta')).id).to.equal(winners[0]!.id);
    const names = (await store.list()).map((r) => r.name).sort();
    expect(names).to.have.length(3);
    expect(names).to.include('delta');
    expect(await store.leftovers()).to.deep.equal([]);
  });

  it('updates state under the lock; a second mutation waits for it; id and name cannot change through update', async () => {
    const made = await store.create(input('svc'));
    const updated = await store.update('svc', (r) => {
      r.state = { ...r.state, status: 'running', pid: 4242, startedAt: '2026-12-05T10:00:00.000Z' };
    });
    expect(updated.state).to.include({ status: 'running', pid: 4242 });
    expect((await store.get(made.id)).state.pid).to.equal(4242);
    expect((await codedRejection(store.update('svc', (r) => ({ ...r, name: 'x' })))).code).to.equal('ERR_INVALID_ARGUMENT');
    expect((await codedRejection(store.update('svc', (r) => ({ ...r, state: { ...r.state, status: 'bogus' as 'dead' } })))).code).to.equal(
      'ERR_INVALID_ARGUMENT',
    );

    const impatient = await ContainerStore.open(root, { lockTimeoutMs: 200 });
    await store.withContainer('svc', async (tx) => {
      expect((await codedRejection(impatient.update('svc', () => undefined))).code).to.equal('ERR_LOCK_TIMEOUT');
      expect((await impatient.get(made.id)).state.status).to.equal('running'); // readers take no lock
      await tx.update((r) => {
        r.state.status = 'exited';
        r.state.exitCode = 3;
      });
    });
    expect((await impatient.get(made.id)).state).to.include({ status: 'exited', exitCode: 3 });
  });

  it('removes the record, the directory and the name; refuses while something is mounted inside', async () => {
    const made = await store.create(input('gone'));
    const rootfs = join(store.containerDir(made.id), 'bundle', 'rootfs');
    await mkdir(rootfs, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', rootfs]);
    try {
      const err = await codedRejection(store.remove('gone'));
      expect(err.code).to.equal('ERR_FAILED_PRECONDITION');
      expect(err.details.mounts).to.deep.equal([rootfs]);
      expect((await store.get(made.id)).name).to.equal('gone');
    } finally {
      execFileSync('umount', [rootfs]);
    }
    await store.remove('gone');
    expect(existsSync(store.containerDir(made.id))).to.equal(false);
    expect((await codedRejection(store.resolve(made.id))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect(await readdir(join(root, 'names'))).to.deep.equal([]);
    expect(await readdir(join(root, 'locks'))).to.deep.equal([]);
    await store.withContainer((await store.create(input('tx'))).id, async (tx) => {
      await tx.remove();
      expect((await codedRejection(tx.update(() => undefined))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    });
  });

  it('a create killed between name and record leaves leftovers that are reported, reclaimed and discarded', async () => {
    const [crashed] = await race(root, [['crash-create', 'phoenix']]);
    expect(crashed!.ok).to.equal(true);
    const id = crashed!.id!;
    expect((await codedRejection(store.resolve('phoenix'))).code).to.equal('ERR_NO_SUCH_CONTAINER');
    expect(await store.list()).to.deep.equal([]);
    const found = await store.leftovers();
    expect(found).to.deep.include({ kind: 'container', id, path: store.containerDir(id), reason: 'no record.json' });
    expect(found).to.deep.include({ kind: 'name', name: 'phoenix', holder: id, path: join(root, 'names', 'phoenix') });
    // The dead creator's lock is stale, so a new create takes the name over.
    const reborn = await store.create(input('phoenix'));
    expect((await store.resolve('phoenix')).id).to.equal(reborn.id);
    const rest = await store.leftovers();
    expect(rest).to.have.length(1);
    await store.discard(rest[0]!);
    expect(await store.leftovers()).to.deep.equal([]);
    expect(await readdir(join(root, 'containers'))).to.deep.equal([reborn.id]);
  });

  it('list skips a corrupt record, which leftovers() reports', async () => {
    const good = await store.create(input('good'));
    const bad = await store.create(input('bad'));
    await writeFile(join(store.containerDir(bad.id), 'record.json'), '{"schemaVersion":1,"id":');
    expect((await store.list()).map((r) => r.id)).to.deep.equal([good.id]);
    expect((await codedRejection(store.get(bad.id))).code).to.equal('ERR_CORRUPT_FILE');
    const found = await store.leftovers();
    expect(found.map((l) => l.kind)).to.deep.equal(['container']);
    expect((await codedRejection(store.create(input('bad')))).code).to.equal('ERR_NAME_IN_USE');
  });
});
