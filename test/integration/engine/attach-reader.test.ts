// Engine.attach (a running container's stdin, terminal size and EOF; its output is its log) and ContainerReader
// (ps, inspect and logs with no backend), on real shims with a busybox image from a real registry.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerReader, Engine } from '../../../lib/engine/index.js';
import { RegistryClient } from '../../../lib/registry/index.js';
import { mountsUnder, unmount } from '../../../lib/util/mount.js';
import { codedRejection } from '../../fixtures/assert.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

async function collect(lines: AsyncIterable<{ line: string }>): Promise<string> {
  let out = '';
  for await (const l of lines) out += l.line;
  return out;
}

describe('engine: attach and ContainerReader (real shims, real registry)', function () {
  this.timeout(120_000);
  const served = useRegistryWithImages();
  let client: RegistryClient;
  let root: string;
  let engine: Engine;
  let untrack: (() => void) | undefined;
  const killEverything = (): void => killAll(processTree(findShimPids(join(root, 'events.sock'))));

  beforeEach(async () => {
    client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    root = await makeTempDir('engine-attach');
    untrack = trackCleanup(killEverything);
    engine = await Engine.open({ root, registry: client, namespace: `ck-att-${randomBytes(4).toString('hex')}` });
  });
  afterEach(async () => {
    await engine?.close();
    killEverything();
    for (const point of await mountsUnder(root)) await unmount(point).catch(() => undefined);
    await removeTempDir(root);
    client.close();
    untrack?.();
  });

  it('attach: stdin reaches a terminal container, resize sets its size; ^D is EOF on its terminal', async () => {
    const { id } = await engine.run(served.images.busybox.reference, {
      detach: true,
      tty: true,
      stdin: true,
      cmd: ['sh', '-c', 'read a; stty size; cat; echo "eof $a"; exit 3'],
    });
    const input = await engine.attach(id);
    expect(input.stdin).to.not.equal(undefined);
    await input.resize({ width: 91, height: 27 });
    input.stdin!.write('one\r');
    input.stdin!.write('two\r\x04');
    const exited = await engine.wait(id, { signal: AbortSignal.timeout(20_000) });
    expect(exited.exitCode).to.equal(3);
    const out = await collect(engine.logs(id));
    // The terminal echoes what it reads; the lines it writes end in CRLF.
    expect(out).to.include('27 91\r\n');
    expect(out).to.include('eof one\r\n');
    expect(out).to.match(/two\r\n(two\r\n)?eof one/);
    await engine.remove(id);
  });

  it('attach to a stopped container: ERR_FAILED_PRECONDITION; unknown: ERR_NO_SUCH_CONTAINER', async () => {
    const { id } = await engine.create(served.images.busybox.reference, { cmd: ['true'] });
    expect((await codedRejection(engine.attach(id))).code).to.equal('ERR_FAILED_PRECONDITION');
    expect((await codedRejection(engine.attach('nosuch'))).code).to.equal('ERR_NO_SUCH_CONTAINER');
  });

  it('ContainerReader lists, inspects and reads logs with no backend; an exit nobody recorded reads as exited and stale', async () => {
    const { id } = await engine.run(served.images.busybox.reference, { detach: true, name: 'reader', cmd: ['sh', '-c', 'echo hi; sleep 60'] });
    const info = await engine.inspect(id);
    await engine.close();
    const reader = await ContainerReader.open(root);
    const [row, ...more] = await reader.list();
    expect(more).to.deep.equal([]);
    expect(row).to.include({ Id: id, State: 'running' });
    expect((await reader.inspect('reader')).State.Running).to.equal(true);
    const until = Date.now() + 5000;
    while ((await collect(reader.logs(id))) !== 'hi\n' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await collect(reader.logs(id))).to.equal('hi\n');
    expect(reader.stale).to.equal(false);

    process.kill(info.State.Pid, 'SIGKILL');
    const gone = Date.now() + 5000;
    while ((await reader.list()).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(await reader.list()).to.deep.equal([]);
    expect(reader.stale).to.equal(true);
    expect((await reader.list({ all: true }))[0]).to.include({ Id: id, State: 'exited' });
    // A follower ends once the process is gone.
    expect(await collect(reader.logs(id, { follow: true }))).to.equal('hi\n');
    // An Engine records the real exit.
    engine = await Engine.open({ root, registry: client });
    expect((await engine.inspect(id)).State).to.include({ Status: 'exited', ExitCode: 137 });
    await engine.remove(id);
  });
});
