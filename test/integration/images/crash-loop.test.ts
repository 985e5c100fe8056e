// Crash loop: a child pulling the 3-layer fixture is SIGKILLed again and again — at seeded random byte offsets,
// around the link of a blob into blobs/, and around the rename that writes index.json. After every kill the store
// verifies clean; the last pull completes; the bytes delivered to the children over the whole loop are at most twice
// the image size, which only a pull that resumes (rather than restarts) can achieve.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { ImageStore } from '../../../lib/images/index.js';
import { type PushedImages, withPushedImages } from '../../fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../fixtures/registry.js';
import { startThrottleProxy, type ThrottleProxyFixture } from '../../fixtures/throttle-proxy.js';
import { makeTempDir } from '../../fixtures/tmp.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runChild(root: string, ref: string, mode: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'fixtures', 'crash-pull-child.ts'), root, ref, mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

// A crash loses what the child received but had not written yet: the bytes in flight (the fetcher hands each network
// read on as it arrives, lib/registry/fetch-blob.ts). 2x a ~1 MB image over 30+ kills leaves
// ~33 KiB per kill for that, so the kills at byte offsets run over a slow link (128 KiB/s: ~6 KiB per 50 ms); at
// loopback speed any client loses far more per kill than a 1 MB image can absorb 30 times.
const SLOW_LINK = 128 * 1024;
const FAST_LINK = 16 * 1024 * 1024;

describe('images: crash loop (SIGKILL during pull)', function () {
  this.timeout(600_000);
  let registry: RegistryFixture;
  let proxy: ThrottleProxyFixture;
  let pushed: PushedImages;

  before(async () => {
    registry = await startRegistry();
    pushed = await withPushedImages(registry);
    // Why a pacing proxy: the registry's access log counts what it wrote into its socket, and on loopback the kernel
    // buffers take the whole ~1 MB rest of the big layer before a child dies, however little the child read. The
    // children pull through this proxy instead, which hands bodies over in 2 KiB writes at a set pace and counts what
    // it handed over: an honest (upper-bound) measure of what the client received. The registry behind it stays the
    // real one.
    proxy = await startThrottleProxy(registry.url, { chunkSize: 2048, bytesPerSecond: SLOW_LINK });
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('survives >= 30 SIGKILLs with a clean store after each, and resumes instead of restarting', async () => {
    const seed = Number(process.env.CRASH_SEED ?? 20261128);
    console.log(`    crash-loop seed ${seed} (set CRASH_SEED to replay)`);
    const random = mulberry32(seed);
    const root = join(await makeTempDir('images-crash'), 'content');
    const store = await ImageStore.open(root);
    const { image } = pushed.layered;
    const configSize = (JSON.parse(image.manifest.toString('utf8')) as { config: { size: number } }).config.size;
    const imageSize = image.manifestSize + configSize + image.layers.reduce((n, l) => n + l.size, 0);
    const ref = pushed.layered.reference.replace(registry.host, proxy.host);
    expect(ref).to.not.equal(pushed.layered.reference);
    const plan: string[] = [];
    // Offsets are new bytes per child: 30 kills spread over the first part of the ~1 MB busybox layer.
    for (let i = 0; i < 30; i++) plan.push(`bytes:${1024 + Math.floor(random() * 20 * 1024)}`);
    plan.push('link-before', 'link-after', 'index-before', 'index-after', 'none');
    await registry.accessLog();
    registry.clearAccessLog();
    proxy.clearRecords();
    let kills = 0;
    let phaseKills = 0;
    for (const mode of plan) {
      // Paced only where a kill lands mid-download; the phase kills come after a blob's last byte arrived.
      proxy.bytesPerSecond = mode.startsWith('bytes:') ? SLOW_LINK : FAST_LINK;
      const res = await runChild(root, ref, mode);
      if (process.env.CRASH_DEBUG)
        console.log(mode, res.signal, res.code, JSON.stringify((await store.content.listStatuses()).map((s) => s.offset)), res.err.slice(0, 300));
      if (res.signal === 'SIGKILL') {
        kills++;
        if (!mode.startsWith('bytes:')) phaseKills++;
      } else {
        expect(res.code, `${mode}: ${res.err}`).to.equal(0);
        expect(res.out.trim()).to.equal('done');
      }
      const report = await store.verify();
      expect(report, `after ${mode}`).to.deep.include({ corrupt: [], missing: [] });
    }
    expect(kills).to.be.at.least(30);
    expect(phaseKills).to.be.at.least(3);
    const record = await store.get(ref);
    expect(record.target.digest).to.equal(pushed.layered.digest);
    const big = image.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const delivered = proxy.deliveredBytes();
    if (process.env.CRASH_DEBUG) for (const r of proxy.requests) console.log(r.method, r.path.slice(-20), r.range, r.status, r.delivered, r.complete);
    const log = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/'));
    const registryWrote = log.reduce((n, e) => n + e.bytes, 0);
    const bigLog = log.filter((e) => e.path.endsWith(big.digest));
    const bigProxied = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(big.digest));
    console.log(
      `    RESULT crash-loop kills=${kills} phaseKills=${phaseKills} imageBytes=${imageSize} deliveredBytes=${delivered} ratio=${(delivered / imageSize).toFixed(2)}` +
        ` registryWroteBytes=${registryWrote} bigLayerRequests=${bigProxied.length}`,
    );
    // Proof of resume: every byte of the image had to come through the proxy at least once, and all of them together,
    // over 30+ kills, at most twice.
    expect(delivered).to.be.at.least(imageSize);
    expect(delivered).to.be.at.most(2 * imageSize);
    // Only the first request for the big layer starts at byte 0; each later one asks for the rest from an offset no
    // lower than the one before, and the registry answers it 206 with no more than that rest.
    expect(bigProxied.length).to.be.at.least(30);
    expect(bigLog.length).to.equal(bigProxied.length);
    expect(bigProxied[0]!.range).to.equal(undefined);
    expect(bigLog[0]!.status).to.equal(200);
    let previous = 0;
    for (let i = 1; i < bigProxied.length; i++) {
      const m = /^bytes=(\d+)-$/.exec(bigProxied[i]!.range ?? '');
      expect(m, `request ${i}: Range ${bigProxied[i]!.range}`).to.not.equal(null);
      const start = Number(m![1]);
      expect(start).to.be.above(0).and.below(big.size).and.at.least(previous);
      previous = start;
      expect(bigProxied[i]!.delivered).to.be.at.most(big.size - start);
      expect(bigLog[i]!.status).to.equal(206);
      expect(bigLog[i]!.bytes).to.be.at.most(big.size - start);
    }
    expect(bigProxied.at(-1)!.complete).to.equal(true);
    // Only stale-ingest leftovers may remain; a GC clears everything not referenced.
    await store.gc({ ingestMaxAgeMs: 0 });
    expect(await store.content.listStatuses()).to.deep.equal([]);
  });
});
