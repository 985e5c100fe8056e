// The registry client's HTTP transport against the real docker-registry: direct requests go through node's http
// client (axios and what it drags in are never loaded by an anonymous pull), proxied ones through axios.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { RegistryClient } from '../../../lib/registry/registry-client.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { startThrottleProxy, type ThrottleProxyFixture } from '../../fixtures/throttle-proxy.js';

const run = promisify(execFile);

describe('registry: HTTP transport', function () {
  this.timeout(60_000);
  const served = useRegistryWithImages();

  it('pulls an image in a fresh process without loading the axios http adapter (form-data, follow-redirects, mime-types) or undici', async () => {
    const child = join(import.meta.dirname, '..', '..', 'fixtures', 'registry-pull-imports-child.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, served.images.layered.reference]);
    const report = JSON.parse(stdout) as { digest: string; blobs: number; packages: string[]; undici: boolean };
    expect(report.digest).to.equal(served.images.layered.digest);
    // The config and every layer, each verified by the client as it streamed.
    expect(report.blobs).to.equal(1 + served.images.layered.image.layers.length);
    // A fresh process pays for every module it loads before its first byte (registry-pull bench: ~60 % of the import).
    expect(report.packages.filter((p) => ['form-data', 'follow-redirects', 'proxy-from-env', 'mime-types'].includes(p))).to.deep.equal([]);
    expect(report.undici).to.equal(false);
  });

  it('hands on blob bytes as the socket delivers them (no chunk gathered into a bigger copy), verified', async () => {
    const client = new RegistryClient({ retry: { baseDelayMs: 1 } });
    try {
      const ref = served.images.busybox.reference;
      const manifest = await client.fetchManifest(ref);
      if (manifest.parsed.kind !== 'manifest') throw new Error('expected a manifest');
      const layer = manifest.parsed.manifest.layers[0]!;
      expect(layer.size).to.be.greaterThan(256 * 1024);
      const sizes: number[] = [];
      for await (const chunk of await client.fetchBlob(ref, layer)) sizes.push((chunk as Buffer).length);
      expect(sizes.reduce((a, b) => a + b, 0)).to.equal(layer.size);
      // node reads a socket 64 KiB at a time; gathering them into 1 MiB chunks copied every byte once more.
      expect(Math.max(...sizes)).to.be.at.most(64 * 1024);
    } finally {
      client.close();
    }
  });

  it('sends every request of a pull through the configured HTTP proxy, in absolute form', async () => {
    let proxy: ThrottleProxyFixture | undefined;
    try {
      proxy = await startThrottleProxy(served.registry.url, { chunkSize: 1 << 20, bytesPerSecond: 1 << 30 });
      const proxied = new RegistryClient({ proxy: { httpProxy: proxy.url }, retry: { baseDelayMs: 1 } });
      try {
        const ref = served.images.layered.reference;
        const manifest = await proxied.fetchManifest(ref);
        expect(manifest.descriptor.digest).to.equal(served.images.layered.digest);
        if (manifest.parsed.kind !== 'manifest') throw new Error('expected a manifest');
        const layer = manifest.parsed.manifest.layers[0]!;
        const got = await buffer(await proxied.fetchBlob(ref, layer));
        expect(got.length).to.equal(layer.size);
      } finally {
        proxied.close();
      }
      const uris = proxy.requests.map((r) => r.uri);
      expect(uris.length).to.be.greaterThan(0);
      for (const uri of uris) expect(uri.startsWith(`http://${served.registry.host}/v2/`), uri).to.equal(true);
    } finally {
      await proxy?.stop();
    }
  });
});
