import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { GrpcCode, TtrpcClient, TtrpcServer, type TtrpcServerOptions } from '../../../lib/shim/index.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { CrashGuard } from './crash-guard.js';
import { RawClient } from './raw-client.js';

describe('shim/ttrpc server: limits on what a peer can hold', () => {
  let dir: string;
  let path: string;
  let server: TtrpcServer | undefined;
  let guard: CrashGuard;
  const open: Array<{ close(): unknown }> = [];
  let held: Array<() => void> = [];
  let started: (() => void) | undefined;

  async function serve(options: TtrpcServerOptions): Promise<TtrpcServer> {
    server = new TtrpcServer(options);
    server.register({
      name: 'test.Svc',
      methods: new Map([
        ['Echo', async (payload: Uint8Array) => payload],
        [
          'Hold',
          (payload: Uint8Array) =>
            new Promise<Uint8Array>((resolve) => {
              held.push(() => resolve(payload));
              started?.();
            }),
        ],
        ['Big', async () => new Uint8Array(256 << 10)],
      ]),
    });
    await server.listen(path);
    return server;
  }
  const client = async (): Promise<TtrpcClient> => {
    const c = await TtrpcClient.open(path);
    open.push(c);
    return c;
  };
  const raw = async (): Promise<RawClient> => {
    const c = await RawClient.connect(path);
    open.push({ close: () => c.destroy() });
    return c;
  };
  // The server learns of a closed connection a moment after the client; wait for it without a clock.
  async function connectionsDropTo(n: number): Promise<void> {
    while (server!.connections > n) await sleep(5);
  }

  beforeEach(async () => {
    guard = CrashGuard.install();
    dir = await makeTempDir('ttrpc-limits');
    path = join(dir, 's.sock');
    held = [];
    started = undefined;
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const release of held) release();
    await server?.close();
    server = undefined;
    await removeTempDir(dir);
    guard.dispose();
  });

  it('validates its options', () => {
    for (const bad of [{ maxConnections: 0 }, { maxBufferedBytes: 10 }, { idleTimeoutMs: -1 }, { idleTimeoutMs: 2 ** 31 }, { maxConnections: 1.5 }]) {
      expect(
        hasCode(
          (() => {
            try {
              new TtrpcServer(bad);
            } catch (err) {
              return err;
            }
          })(),
          'ERR_INVALID_ARGUMENT',
        ),
        JSON.stringify(bad),
      ).to.equal(true);
    }
  });

  it('closes connections beyond maxConnections at once, and accepts again once one ends', async () => {
    await serve({ maxConnections: 2 });
    const a = await client();
    const b = await client();
    expect(await a.call('test.Svc', 'Echo', Buffer.from('a'))).to.deep.equal(Buffer.from('a'));
    expect(await b.call('test.Svc', 'Echo', Buffer.from('b'))).to.deep.equal(Buffer.from('b'));
    const c = await client();
    await c.closed;
    expect(hasCode(await rejection(c.call('test.Svc', 'Echo', Buffer.from('c'))), 'ERR_TTRPC_CONNECTION_CLOSED')).to.equal(true);
    expect(server!.connections).to.equal(2);
    await a.close();
    await connectionsDropTo(1);
    const d = await client();
    expect(await d.call('test.Svc', 'Echo', Buffer.from('d'))).to.deep.equal(Buffer.from('d'));
    guard.check();
  });

  it('answers RESOURCE_EXHAUSTED to a call that would take a connection over maxBufferedBytes, and serves it again later', async () => {
    await serve({ maxBufferedBytes: 64 << 10 });
    const c = await client();
    const payload = new Uint8Array(20 << 10).fill(7);
    // Three 20 KiB calls (plus 1 KiB bookkeeping each) fit in 64 KiB; the fourth does not.
    const calls = [0, 1, 2].map(() => c.call('test.Svc', 'Hold', payload));
    while (held.length < 3) await tick();
    const refused = await rejection(c.call('test.Svc', 'Hold', payload));
    expect((refused as { details: Record<string, unknown> }).details.grpcCode).to.equal(GrpcCode.RESOURCE_EXHAUSTED);
    expect(held).to.have.length(3);
    for (const release of held.splice(0)) release();
    for (const answer of await Promise.all(calls)) expect(answer.length).to.equal(payload.length);
    expect((await c.call('test.Svc', 'Echo', payload)).length).to.equal(payload.length);
    guard.check();
  });

  it('skips, unbuffered, a frame larger than maxBufferedBytes and answers it RESOURCE_EXHAUSTED', async () => {
    await serve({ maxBufferedBytes: 64 << 10 });
    const c = await client();
    const refused = await rejection(c.call('test.Svc', 'Echo', new Uint8Array(100 << 10)));
    expect((refused as { details: Record<string, unknown> }).details.grpcCode).to.equal(GrpcCode.RESOURCE_EXHAUSTED);
    expect(await c.call('test.Svc', 'Echo', Buffer.from('ok'))).to.deep.equal(Buffer.from('ok'));
    guard.check();
  });

  it('disconnects a peer that leaves more than maxBufferedBytes of answers unread', async () => {
    await serve({ maxBufferedBytes: 1 << 20 });
    const peer = await raw();
    while (!(server!.connections >= 1)) await sleep(5); // accepted
    peer.socket.pause(); // never reads: the answers pile up in the kernel, then in the server
    // 64 answers of 256 KiB (16 MiB) are more than the kernel's socket buffers and the server's 1 MiB together.
    for (let id = 1; id < 128; id += 2) peer.request(id, { service: 'test.Svc', method: 'Big' });
    await connectionsDropTo(0); // (the paused peer does not read the EOF, so watch the server's side)
    peer.socket.resume();
    await peer.closed;
    expect(peer.answers.size).to.be.lessThan(64);
    const other = await client();
    expect((await other.call('test.Svc', 'Big', new Uint8Array(0))).length).to.equal(256 << 10);
    guard.check();
  });

  it('closes a connection idle for idleTimeoutMs, but not one with a call running', async () => {
    await serve({ idleTimeoutMs: 50 });
    const busy = await client();
    const running = new Promise<void>((resolve) => (started = resolve));
    const call = busy.call('test.Svc', 'Hold', Buffer.from('late'));
    await running; // the server has read the call: the busy connection's idle clock started before the idle one's
    const idle = await client();
    await idle.closed;
    expect(idle.isClosed).to.equal(true);
    expect(busy.isClosed).to.equal(false);
    held.shift()!();
    expect(await call).to.deep.equal(Buffer.from('late'));
    await busy.closed; // and once idle itself, it goes too
    guard.check();
  });
});
