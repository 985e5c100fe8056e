// What the read-only container verbs load: ps, inspect and logs read the records and the log without a backend, so
// they neither connect to shims nor load the shim, ttrpc, registry, gRPC or protobuf code. Each run is a real
// process with a module-resolution recorder, on a root with one container record.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ContainerStore } from '../../../lib/engine/container-store.js';
import { modulesOf } from '../../fixtures/cli-modules.js';
import { seedCliStore } from '../../fixtures/cli-store.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const run = promisify(execFile);

const HEAVY: Array<[string, RegExp]> = [
  ['shim', /\/lib\/shim\//],
  ['ttrpc', /\/ttrpc\//],
  ['registry client', /\/lib\/registry\//],
  ['containerd client', /\/lib\/containerd\//],
  ['nice-grpc', /\/node_modules\/(nice-grpc|@grpc)\//],
  ['protobuf', /\/node_modules\/@bufbuild\/protobuf\/|\/lib\/gen\//],
  ['axios', /\/node_modules\/axios\//],
];

const heavyIn = (modules: readonly string[]): string[] => HEAVY.filter(([, p]) => modules.some((m) => p.test(m))).map(([name]) => name);

describe('cli: read-only container verbs load no backend', function () {
  this.timeout(120_000);
  let dir: string;
  let root: string;

  before(async () => {
    dir = await makeTempDir('cli-ro-startup');
    root = join(dir, 'root');
    const [name] = await seedCliStore(root, 1, 'example.com/startup/busybox');
    const store = await ContainerStore.open(root);
    await store.create({ name: 'quiet', image: { name: name!, id: `sha256:${'a'.repeat(64)}` }, config: { labels: { k: 'v' } } });
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('ps -a lists the container without loading shim, ttrpc or registry modules', async () => {
    const { stdout, modules } = await modulesOf(dir, ['--root', root, 'ps', '-a']);
    expect(stdout).to.match(/\n[0-9a-f]{12} +example\.com\/startup\/busybox:v0 +"" +.* +Created +quiet\n$/);
    expect(
      modules.some((m) => m.endsWith('/lib/engine/container-reader.ts')),
      'the recorder saw the reader',
    ).to.equal(true);
    expect(heavyIn(modules)).to.deep.equal([]);
  });

  it('inspect (a container, then an image), logs and events load none of them either', async () => {
    const inspect = await modulesOf(dir, ['--root', root, 'inspect', 'quiet', 'example.com/startup/busybox:v0']);
    const docs = JSON.parse(inspect.stdout) as Array<{ Name?: string; RepoTags?: string[] }>;
    expect(docs.map((d) => d.Name ?? d.RepoTags?.[0])).to.deep.equal(['/quiet', 'example.com/startup/busybox:v0']);
    expect(heavyIn(inspect.modules)).to.deep.equal([]);
    const logs = await modulesOf(dir, ['--root', root, 'logs', 'quiet']);
    expect(logs.stdout).to.equal('');
    expect(heavyIn(logs.modules)).to.deep.equal([]);
    const events = await modulesOf(dir, ['--root', root, 'events', '--since', '1h', '--until', new Date().toISOString()]);
    expect(events.stdout).to.equal(''); // the store alone publishes no events
    expect(heavyIn(events.modules)).to.deep.equal([]);
  });

  it('on a root that does not exist: ps lists nothing, inspect and logs find nothing, and nothing is created', async () => {
    const missing = join(dir, 'no-root');
    expect((await modulesOf(dir, ['--root', missing, 'ps', '-a'])).stdout).to.equal('CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n');
    const inspect = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/cli-bin.ts', '--root', missing, 'inspect', 'x']).catch(
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(inspect).to.deep.include({ code: 1, stdout: '[]\n', stderr: 'Error: No such object: x\n' });
    const logs = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/cli-bin.ts', '--root', missing, 'logs', 'x']).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(logs).to.deep.include({ code: 1 });
    expect((logs as { stderr: string }).stderr).to.match(/no such container: x \(ERR_NO_SUCH_CONTAINER\)\n$/);
    expect(existsSync(missing)).to.equal(false);
  });

  it('the recorder sees the shim modules where a verb does load them', async () => {
    expect(heavyIn((await modulesOf(dir, ['help', 'stop'])).modules)).to.deep.equal([]);
    const { modules } = await modulesOf(dir, ['--root', root, 'rm', 'quiet']);
    expect(heavyIn(modules)).to.include.members(['shim', 'ttrpc']);
  });
});
