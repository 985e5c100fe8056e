// The daemonless backend on real shims: tasks from a busybox image pulled from a real registry, each on its own
// overlay snapshot, logs written by the C logger, reattach by a new backend, and removal that leaves nothing.

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { removeBundle } from '../../../lib/engine/bundle.js';
import { ImageService, type RunnableImage } from '../../../lib/engine/image-service.js';
import { ShimBackend } from '../../../lib/engine/shim-backend.js';
import { FailedPreconditionError } from '../../../lib/errors/index.js';
import type { Spec } from '../../../lib/oci/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { generateSpec, withImageConfig } from '../../../lib/runtime/index.js';
import { parseContainerLogLine, shimSocketPath } from '../../../lib/shim/index.js';
import { mountsUnder, unmount } from '../../../lib/util/mount.js';
import { codedRejection } from '../../fixtures/assert.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('engine: ShimBackend (real shims, a real image)', function () {
  this.timeout(120_000);
  const served = useRegistryWithImages();
  let client: RegistryClient;
  let root: string;
  let namespace: string;
  let images: ImageService;
  let image: RunnableImage;
  const backends: ShimBackend[] = [];
  let untrack: (() => void) | undefined;

  const eventsSocket = (): string => join(root, 'events.sock');
  const killEverything = (): void => killAll(processTree(findShimPids(eventsSocket())));

  before(async () => {
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
  });
  beforeEach(async () => {
    root = await makeTempDir('engine-shim');
    namespace = `ck-engine-${randomBytes(4).toString('hex')}`;
    untrack = trackCleanup(killEverything);
    images = await ImageService.open(root, { registry: client, snapshotter: 'overlay' });
    image = await images.ensureImage(served.images.busybox.reference);
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
    killEverything();
    for (const point of await mountsUnder(root)) await unmount(point).catch(() => undefined);
    await removeTempDir(root);
    untrack?.();
  });
  after(() => client?.close());

  async function open(): Promise<ShimBackend> {
    const backend = await ShimBackend.open(root, { namespace, callTimeoutMs: 20_000 });
    backends.push(backend);
    return backend;
  }

  const specOf = (id: string, args: string[]): Promise<Spec> => generateSpec([withImageConfig(image.config, { args })], { id, namespace });

  /** Creates task `id` running `args` on a fresh snapshot of the image, its output in container.log. */
  async function create(backend: ShimBackend, id: string, args: string[]) {
    const rootfs = await images.prepareRootfs(id, image.chainId);
    return backend.createTask({ id, spec: await specOf(id, args), rootfs, stdio: { stdout: 'log' } });
  }

  /** The shims of this root serving task `id` (the daemon's argv holds `-id <id>`). */
  const shimPidsOf = (id: string): number[] =>
    findShimPids(eventsSocket()).filter((pid) => {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[argv.indexOf('-id') + 1] === id;
    });

  /** What is left of task `id`: its shim, socket, runc state, mounts, FIFOs, bundle, and the files of its dir. */
  function leftovers(id: string): string[] {
    const out: string[] = [];
    for (const pid of processTree(shimPidsOf(id))) if (isAlive(pid)) out.push(`process ${pid}`);
    if (existsSync(shimSocketPath(eventsSocket(), namespace, id))) out.push('shim socket');
    const runcState = join(root, 'runc', namespace, id);
    if (existsSync(runcState)) out.push(`runc state ${runcState}`);
    const dir = join(root, 'containers', id);
    for (const name of existsSync(dir) ? readdirSync(dir) : []) if (name !== 'container.log' && name !== 'record.json') out.push(`file ${name}`);
    return out;
  }

  it('runs a task on a snapshot of a pulled image: C-logger log, exit code, removal leaves only the log', async () => {
    const backend = await open();
    // The Engine's record sits beside the shim's: the backend never touches it.
    await mkdir(join(root, 'containers', 'echo1'), { recursive: true });
    await writeFile(join(root, 'containers', 'echo1', 'record.json'), '{"engine":true}');
    const task = await create(backend, 'echo1', ['sh', '-c', 'echo out; echo err >&2; cat /etc/passwd >/dev/null; exit 3']);
    const bundle = backend.bundlePath('echo1');
    expect(bundle).to.equal(join(root, 'containers', 'echo1', 'bundle', 'echo1'));
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    expect(config.root?.path).to.equal(join(bundle, 'rootfs'));
    expect(await mountsUnder(bundle), 'the shim mounted the snapshot').to.deep.equal([join(bundle, 'rootfs')]);
    expect(await backend.loadTask('echo1')).to.equal(task);
    expect((await backend.tasks()).map((t) => t.id)).to.deep.equal(['echo1']);

    const exited = task.wait();
    await task.start();
    expect((await exited).code).to.equal(3);
    const records = readFileSync(backend.logPath('echo1'), 'utf8').trim().split('\n').map(parseContainerLogLine);
    expect(records.map((r) => [r.stream, r.log])).to.have.deep.members([
      ['stdout', 'out\n'],
      ['stderr', 'err\n'],
    ]);

    // The snapshot is in use while the task exists: neither it nor the bundle can go.
    expect((await codedRejection(images.releaseRootfs('echo1'))).code).to.equal('ERR_SNAPSHOT_MOUNTED');
    expect((await codedRejection(removeBundle(bundle))).code).to.equal('ERR_FAILED_PRECONDITION');
    expect((await codedRejection(backend.createTask({ id: 'echo1', spec: config, rootfs: [], stdio: {} }))).code).to.equal('ERR_ALREADY_EXISTS');

    const removed = await backend.removeTask('echo1');
    expect(removed?.code).to.equal(3);
    expect(await backend.loadTask('echo1')).to.equal(undefined);
    expect(leftovers('echo1')).to.deep.equal([]);
    expect(existsSync(join(root, 'containers', 'echo1', 'bundle')), 'bundle').to.equal(false);
    expect(await mountsUnder(root)).to.deep.equal([]);
    expect(existsSync(backend.logPath('echo1')), 'the log stays for `logs` of a removed task').to.equal(true);
    await images.releaseRootfs('echo1');
    expect((await images.snapshotter.walk()).map((s) => s.kind)).to.deep.equal(['committed']);
    expect(readdirSync(join(root, 'containers', 'echo1')).sort()).to.deep.equal(['container.log', 'record.json']);
    // A container with no task: a new backend leaves its dir alone.
    await backend.close();
    const next = await open();
    expect(next.recovery).to.deep.equal({ running: [], exited: [], lost: [] });
    expect(readFileSync(join(root, 'containers', 'echo1', 'record.json'), 'utf8')).to.equal('{"engine":true}');
  });

  it('a new backend on the root reattaches: running, exited meanwhile (real code), lost (shim killed)', async () => {
    const first = await open();
    const runner = await create(first, 'runner', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    const exit7 = await create(first, 'exit7', ['sh', '-c', 'sleep 1; exit 7']);
    const orphan = await create(first, 'orphan', ['sleep', '600']);
    for (const t of [runner, exit7, orphan]) await t.start();
    const orphanShim = orphan.shimPid;
    const orphanPid = (await orphan.status()).pid;
    await first.close();
    backends.splice(backends.indexOf(first), 1);

    // No engine runs: exit7 ends, the runner keeps logging, the orphan loses its shim.
    process.kill(orphanShim, 'SIGKILL');
    await until(() => !isAlive(orphanShim), 'the orphan shim to die');
    const sizeAtClose = readFileSync(first.logPath('runner')).length;
    await new Promise((r) => setTimeout(r, 1800));
    expect(readFileSync(first.logPath('runner')).length, 'logged while no engine ran').to.be.greaterThan(sizeAtClose);

    const second = await open();
    expect(second.recovery.running).to.deep.equal(['runner']);
    expect(second.recovery.exited.map((e) => [e.id, e.code])).to.deep.equal([['exit7', 7]]);
    expect(second.recovery.exited[0]!.exitedAt).to.be.instanceOf(Date);
    expect(second.recovery.lost.map((e) => [e.id, e.code])).to.deep.equal([['orphan', 137]]);
    // The lost task is cleaned up already: no process, mount or bundle; its snapshot can go.
    expect(leftovers('orphan')).to.deep.equal([]);
    expect(isAlive(orphanPid), 'the container its shim left behind').to.equal(false);
    expect(existsSync(second.bundlePath('orphan'))).to.equal(false);
    await images.releaseRootfs('orphan');
    expect(await second.loadTask('orphan')).to.equal(undefined);
    expect(await second.removeTask('orphan')).to.equal(undefined);

    const running = (await second.loadTask('runner'))!;
    expect((await running.status()).status).to.equal('running');
    const err = await codedRejection(second.removeTask('runner'));
    expect(err).to.be.instanceOf(FailedPreconditionError);
    expect((await second.removeTask('runner', { force: true }))?.code).to.equal(137);
    expect((await second.removeTask('exit7'))?.code).to.equal(7);
    for (const id of ['runner', 'exit7', 'orphan']) expect(leftovers(id), id).to.deep.equal([]);
    expect(processTree(findShimPids(eventsSocket())).filter(isAlive), 'processes of the root').to.deep.equal([]);
    expect(await mountsUnder(root)).to.deep.equal([]);
    expect(existsSync(join(root, 'runc', namespace)), 'runc namespace dir').to.equal(false);
    for (const id of ['runner', 'exit7']) await images.releaseRootfs(id);
  });

  it('two backends on one root at once: the second finds, waits on and removes the first one’s task', async () => {
    const first = await open();
    const second = await open();
    expect([first.manager.servesEvents, second.manager.servesEvents]).to.deep.equal([true, false]);
    const task = await create(first, 'shared', ['sh', '-c', 'sleep 1; exit 5']);
    await task.start();
    const seen = await second.loadTask('shared');
    expect(seen?.id, 'created after the second opened').to.equal('shared');
    expect((await second.tasks()).map((t) => t.id)).to.deep.equal(['shared']);
    expect((await codedRejection(create(second, 'shared', ['true']))).code).to.equal('ERR_ALREADY_EXISTS');
    expect((await seen!.wait()).code).to.equal(5);
    expect((await second.removeTask('shared'))?.code).to.equal(5);
    expect(await first.loadTask('shared'), 'gone for the first too').to.equal(undefined);
    expect(leftovers('shared')).to.deep.equal([]);
    expect(await mountsUnder(root)).to.deep.equal([]);
    await images.releaseRootfs('shared');
  });

  it('an aborted createTask rejects with the reason and leaves no shim, bundle or mount', async () => {
    const backend = await open();
    const rootfs = await images.prepareRootfs('ab1', image.chainId);
    const spec = await specOf('ab1', ['true']);
    const reason = new Error('stop');
    const aborted = AbortSignal.abort(reason);
    expect(await backend.createTask({ id: 'ab1', spec, rootfs, stdio: { stdout: 'log' }, signal: aborted }).catch((e: unknown) => e)).to.equal(reason);
    // Aborted while the shim starts.
    const controller = new AbortController();
    const creating = backend.createTask({ id: 'ab1', spec, rootfs, stdio: { stdout: 'log' }, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    const outcome = await creating.then(
      (task) => task,
      (e: unknown) => e,
    );
    if (outcome === reason) {
      expect(await backend.loadTask('ab1')).to.equal(undefined);
    } else {
      await backend.removeTask('ab1'); // it finished before the abort
    }
    expect(leftovers('ab1')).to.deep.equal([]);
    expect(existsSync(backend.bundlePath('ab1'))).to.equal(false);
    expect(await mountsUnder(root)).to.deep.equal([]);
    await images.releaseRootfs('ab1');
  });

  it('events of its tasks arrive typed, and the stream ends on abort', async () => {
    const backend = await open();
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of backend.events({ signal: controller.signal })) {
        if ('containerId' in event && event.containerId === 'ev1') seen.push(event.type);
        if (event.type === 'exit') controller.abort();
      }
    })();
    const task = await create(backend, 'ev1', ['true']);
    await task.start();
    await task.wait();
    await reading;
    expect(seen).to.deep.equal(['create', 'start', 'exit']);
    await backend.removeTask('ev1');
    expect(leftovers('ev1')).to.deep.equal([]);
  });
});
