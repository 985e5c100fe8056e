// A test suite that embeds an Engine: each test starts its own service container, talks to it, and leaves
// nothing behind — what testcontainers does, without a Docker daemon.
//
//   npx mocha examples/test-harness.ts          (offline: a busybox image built here, served by a local registry)

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { type ContainerHandle, Engine, RegistryClient } from 'containerkit';
import { pushBusyboxImage } from './busybox-image.js';
import { freePort, type LocalRegistry, startLocalRegistry } from './local-registry.js';
import { findShim, processTable } from './proc-tree.js';

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (chunk: string) => (body += chunk))
        .on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).once('error', reject);
  });
}

/** Polls `url` until it answers (a readiness wait), or fails after `ms`. */
async function waitForHttp(url: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await httpGet(url);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

describe('a web service in a container, one per test', function () {
  this.timeout(60_000);
  let registry: LocalRegistry;
  let client: RegistryClient;
  let root: string;
  let engine: Engine;
  let image: string;
  const started: ContainerHandle[] = [];

  before(async () => {
    registry = await startLocalRegistry();
    client = new RegistryClient();
    image = `${registry.host}/demo/busybox:latest`;
    await pushBusyboxImage(image, client);
    root = await mkdtemp(join(tmpdir(), 'containerkit-harness-'));
    engine = await Engine.open({ root, registry: client });
  });

  /** busybox httpd on a free loopback port of the host network, serving `page`. */
  async function startWebServer(page: string): Promise<{ url: string; container: ContainerHandle }> {
    const port = await freePort();
    const script = `mkdir -p /www && printf '%s' "$PAGE" > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
    const container = await engine.run(image, { cmd: ['sh', '-c', script], env: [`PAGE=${page}`], network: 'host', detach: true });
    started.push(container);
    const url = `http://127.0.0.1:${port}/`;
    await waitForHttp(url);
    return { url, container };
  }

  afterEach(async () => {
    for (const container of started.splice(0)) await engine.remove(container.id, { force: true });
  });

  after(async () => {
    await engine?.close();
    client?.close();
    await registry?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it('serves the page it was started with', async () => {
    const { url } = await startWebServer('hello from a container');
    expect(await httpGet(url)).to.deep.equal({ status: 200, body: 'hello from a container' });
  });

  it('gets its own container, and the previous one is gone', async () => {
    const { url, container } = await startWebServer('second');
    expect((await httpGet(url)).body).to.equal('second');
    expect((await engine.list()).map((c) => c.Id)).to.deep.equal([container.id]);
  });

  it('runs commands in the service, and nothing is left once it is removed', async () => {
    const { url, container } = await startWebServer('third');
    await httpGet(url);
    const exec = await engine.exec(container.id, ['sh', '-c', 'ls /www']);
    expect(exec).to.deep.include({ exitCode: 0, stdout: 'index.html\n' });
    await engine.remove(container.id, { force: true });
    started.length = 0;
    expect(await engine.list({ all: true })).to.deep.equal([]);
    expect(findShim(await processTable(), container.id), 'its shim').to.equal(undefined);
    expect(await readdir(join(root, 'containers')), 'container dirs').to.deep.equal([]);
  });
});
