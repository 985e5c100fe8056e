// What a `containerkit` process loads: only the verb that runs, and never the gRPC, protobuf or HTTP graphs for verbs
// that do not talk to containerd or a registry. Each run is a real process with a module-resolution recorder.

import { join } from 'node:path';
import { expect } from 'chai';
import { modulesOf } from '../../fixtures/cli-modules.js';
import { seedCliStore } from '../../fixtures/cli-store.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

// The graphs a start-up must not pay for unless the verb needs them.
const HEAVY: Array<[string, RegExp]> = [
  ['nice-grpc', /\/node_modules\/(nice-grpc|@grpc)\//],
  ['protobuf', /\/node_modules\/@bufbuild\/protobuf\/|\/lib\/gen\//],
  ['axios', /\/node_modules\/axios\//],
  ['containerd client', /\/lib\/containerd\//],
  ['registry client', /\/lib\/registry\/(index|registry-client|http)\.ts$/],
];

function heavyIn(modules: readonly string[]): string[] {
  return HEAVY.filter(([, pattern]) => modules.some((m) => pattern.test(m))).map(([name]) => name);
}

describe('cli: start-up loads only what the verb needs', function () {
  this.timeout(120_000);
  let dir: string;
  let root: string;

  before(async () => {
    dir = await makeTempDir('cli-startup');
    root = join(dir, 'root');
    await seedCliStore(root, 2, 'example.com/startup/busybox');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('version loads no image store, gRPC, protobuf or HTTP client', async () => {
    const { stdout, modules } = await modulesOf(dir, ['version']);
    expect(stdout).to.match(/^containerkit \d+\.\d+\.\d+\n/);
    expect(
      modules.some((m) => m.endsWith('/lib/cli/commands/version.ts')),
      'the recorder saw the verb',
    ).to.equal(true);
    expect(heavyIn(modules)).to.deep.equal([]);
    expect(modules.filter((m) => /\/lib\/(images|content|cli\/commands\/(?!version))/.test(m))).to.deep.equal([]);
    // Not even the debug package: it loads with --debug or an error to report.
    expect(modules.filter((m) => m.includes('/node_modules/'))).to.deep.equal([]);
  });

  it('images lists the store without loading gRPC, protobuf or HTTP client code', async () => {
    const { stdout, modules } = await modulesOf(dir, ['--root', root, 'images']);
    expect(stdout).to.match(/\nexample\.com\/startup\/busybox\s+v1\s+[0-9a-f]{12}\s/);
    expect(
      modules.some((m) => m.endsWith('/lib/images/image-store.ts')),
      'the recorder saw the store',
    ).to.equal(true);
    expect(heavyIn(modules)).to.deep.equal([]);
  });

  it('the recorder sees the heavy graphs where a verb does load them', async () => {
    expect(heavyIn((await modulesOf(dir, ['help', 'containerd'])).modules)).to.include.members(['nice-grpc', 'protobuf', 'containerd client']);
    // axios itself loads only for a proxied request or a token fetch (see the registry transport test).
    expect(heavyIn((await modulesOf(dir, ['help', 'pull'])).modules)).to.include.members(['registry client']);
  });
});
