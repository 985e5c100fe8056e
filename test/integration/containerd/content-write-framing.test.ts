// How ContainerdWriter frames a blob into Content.Write requests, against a real containerd.
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type ContentWriteCall, contentWriteCall } from '../../../lib/containerd/content-write-call.js';
import { ContainerdWriter } from '../../../lib/containerd/content-writer.js';
import { Http2Connection } from '../../../lib/containerd/http2-connection.js';
import { ContainerdClient } from '../../../lib/containerd/index.js';
import { NAMESPACE_HEADER } from '../../../lib/containerd/middleware.js';
import { WriteAction, type WriteContentRequest } from '../../../lib/gen/containerd/services/content/v1/content.js';
import { type ContainerdFixture, startContainerd } from '../../fixtures/containerd.js';

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const KiB = 1024;

describe('ContainerdWriter: Content.Write framing against a real containerd', function () {
  this.timeout(120_000);
  let fixture: ContainerdFixture;
  let client: ContainerdClient;
  let http2: Http2Connection;

  before(async () => {
    fixture = await startContainerd();
    client = new ContainerdClient({ address: fixture.address, namespace: fixture.namespace });
    http2 = new Http2Connection(fixture.address);
  });
  after(async () => {
    http2?.close();
    await client?.close();
    await fixture?.stop();
  });

  /** The real Content.Write call, recording every request's action, offset and data length as it is sent. */
  function recordingCall(sent: Array<{ action: WriteAction; offset: number; length: number }>): Pick<{ contentWrite: ContentWriteCall }, 'contentWrite'> {
    const call = contentWriteCall(http2, fixture.address, { [NAMESPACE_HEADER]: fixture.namespace });
    return {
      contentWrite: (requests, options) =>
        call(
          (async function* () {
            for await (const r of requests as AsyncIterable<WriteContentRequest>) {
              sent.push({ action: r.action, offset: Number(r.offset), length: r.data.length });
              yield r;
            }
          })(),
          options,
        ),
    };
  }

  it('gathers small writes (a registry stream’s 64 KiB network reads) into full 1 MiB WRITE requests', async () => {
    const data = randomBytes(2 * 1024 * KiB + 5);
    const digest = sha256(data);
    const sent: Array<{ action: WriteAction; offset: number; length: number }> = [];
    const writer = await ContainerdWriter.open(recordingCall(sent), {
      ref: `framing-${digest}`,
      expected: { digest: digest as `sha256:${string}`, size: data.length },
      sourceVerified: true,
    });
    for (let at = 0; at < data.length; at += 64 * KiB) await writer.write(data.subarray(at, at + 64 * KiB));
    expect(await writer.commit(data.length, digest, { labels: { 'containerd.io/gc.root': 'test' } })).to.equal(digest);

    const writes = sent.filter((r) => r.action === WriteAction.WRITE);
    // 2 full requests and the 5 bytes left, sent before the COMMIT: 3, not one per 64 KiB piece (33).
    expect(writes.map((w) => w.length)).to.deep.equal([1024 * KiB, 1024 * KiB, 5]);
    expect(writes.map((w) => w.offset)).to.deep.equal([0, 1024 * KiB, 2048 * KiB]);
    expect((await client.content.readAll(digest)).equals(data)).to.equal(true);
    await client.content.delete(digest);
  });

  it('sends what was gathered when the writer is closed without a commit, so a resume starts after it', async () => {
    const data = randomBytes(300 * KiB);
    const digest = sha256(data);
    const ref = `framing-close-${digest}`;
    const sent: Array<{ action: WriteAction; offset: number; length: number }> = [];
    const first = await ContainerdWriter.open(recordingCall(sent), { ref, expected: { digest: digest as `sha256:${string}`, size: data.length } });
    await first.write(data.subarray(0, 100 * KiB));
    await first.close();
    expect(sent.filter((r) => r.action === WriteAction.WRITE).map((w) => w.length)).to.deep.equal([100 * KiB]);
    expect((await client.content.status(ref)).offset).to.equal(100 * KiB);

    const second = await client.content.writer({ ref, expected: { digest, size: data.length } });
    expect((await second.status()).offset).to.equal(100 * KiB);
    await second.write(data.subarray(100 * KiB));
    expect(await second.commit(data.length, digest, { labels: { 'containerd.io/gc.root': 'test' } })).to.equal(digest);
    expect((await client.content.readAll(digest)).equals(data)).to.equal(true);
    await client.content.delete(digest);
  });
});
