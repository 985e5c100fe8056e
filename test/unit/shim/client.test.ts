import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { type ContainerkitError, hasCode, NotFoundError, UnavailableError } from '../../../lib/errors/index.js';
import { ConnectResponse, TaskDefinition } from '../../../lib/gen/containerd/runtime/task/v2/shim.js';
import { createTtrpcClient, encodeFrame, FrameType, MAX_MESSAGE_SIZE, TtrpcClient } from '../../../lib/shim/index.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { CrashGuard } from './crash-guard.js';
import { RawPeer } from './raw-peer.js';

const connectAnswer = (shimPid: number): Uint8Array => ConnectResponse.encode({ shimPid, taskPid: 0, version: '' }).finish();

describe('shim/ttrpc client', () => {
  let peer: RawPeer;
  let client: TtrpcClient;

  beforeEach(async () => {
    peer = await RawPeer.start();
    client = await TtrpcClient.open(`unix://${peer.path}`);
  });
  afterEach(async () => {
    await client.close();
    await peer.stop();
  });

  it('sends odd, increasing stream ids with metadata and timeout_nano, and matches answers given out of order', async () => {
    const task = createTtrpcClient(TaskDefinition, client, { namespace: 'ns1' });
    const calls = [task.connect({ id: 'a' }), task.connect({ id: 'b' }, { timeoutMs: 1500 }), task.connect({ id: 'c' })];
    await peer.waitForRequests(3);
    expect(peer.requests.map((r) => r.frame.streamId)).to.deep.equal([1, 3, 5]);
    expect(peer.requests.map((r) => r.frame.flags)).to.deep.equal([0, 0, 0]);
    const second = peer.requests[1]!.request;
    expect(second).to.deep.include({ service: 'containerd.task.v2.Task', method: 'Connect', timeoutNano: 1_500_000_000n });
    expect(second.metadata).to.deep.equal([{ key: 'containerd-namespace-ttrpc', value: 'ns1' }]);
    expect(peer.requests[0]!.request.timeoutNano).to.equal(0n);
    // Answer 5, then 1, then 3.
    for (const id of [5, 1, 3]) peer.answer(id, connectAnswer(id * 100));
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.shimPid)).to.deep.equal([100, 300, 500]);
    expect(client.pendingCalls).to.equal(0);
  });

  it('treats a missing status as OK and a missing payload as the empty message', async () => {
    const task = createTtrpcClient(TaskDefinition, client);
    const kill = task.kill({ id: 'x', signal: 9 });
    const connect = task.connect({ id: 'x' });
    await peer.waitForRequests(2);
    peer.write(Buffer.from('00000000000000010200', 'hex')); // Kill → 0-byte body
    peer.write(Buffer.from('00000000000000030200', 'hex')); // Connect → 0-byte body too
    expect(await kill).to.deep.equal({});
    expect(await connect).to.deep.equal({ shimPid: 0, taskPid: 0, version: '' });
  });

  it('turns a status into a typed error with the gRPC code and message', async () => {
    const task = createTtrpcClient(TaskDefinition, client);
    const call = task.kill({ id: 'gone', signal: 9 });
    await peer.waitForRequests(1);
    peer.answer(1, undefined, { code: 5, message: 'container not created: not found' });
    const err = await rejection(call);
    expect(hasCode(err, 'ERR_TTRPC_NOT_FOUND')).to.equal(true);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as NotFoundError).details).to.deep.equal({
      grpcCode: 5,
      grpcMessage: 'container not created: not found',
      service: 'containerd.task.v2.Task',
      method: 'Kill',
    });
    expect((err as Error).message).to.contain('container not created: not found');
  });

  it('enforces the timeout locally, drops the late answer, and keeps the connection usable', async () => {
    const started = Date.now();
    const err = await rejection(client.call('svc', 'Slow', new Uint8Array(0), { timeoutMs: 50 }));
    expect(hasCode(err, 'ERR_DEADLINE_EXCEEDED')).to.equal(true);
    expect((err as ContainerkitError).details).to.include({ transport: 'ttrpc', timeoutMs: 50 });
    expect(Date.now() - started).to.be.lessThan(1000);
    peer.answer(1, connectAnswer(1)); // late: must be ignored
    const next = client.call('svc', 'Fast', new Uint8Array(0));
    await peer.waitForRequests(2);
    peer.answer(3, connectAnswer(3));
    expect(ConnectResponse.decode(await next).shimPid).to.equal(3);
  });

  it('rejects an aborted call with signal.reason, sends nothing for an already aborted signal, and stays usable', async () => {
    const already = AbortSignal.abort(new Error('before'));
    expect(((await rejection(client.call('svc', 'M', new Uint8Array(0), { signal: already }))) as Error).message).to.equal('before');
    const controller = new AbortController();
    const call = client.call('svc', 'Wait', new Uint8Array(0), { signal: controller.signal });
    const other = client.call('svc', 'Other', new Uint8Array(0));
    await peer.waitForRequests(2);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    expect(await rejection(call)).to.equal(reason);
    expect(peer.requests.map((r) => r.request.method)).to.deep.equal(['Wait', 'Other']);
    peer.answer(3, connectAnswer(9));
    expect(ConnectResponse.decode(await other).shimPid).to.equal(9);
  });

  it('rejects every pending call with ERR_TTRPC_CONNECTION_CLOSED when the peer goes away, and later calls too', async () => {
    const a = client.call('svc', 'Wait', new Uint8Array(0));
    const b = client.call('svc', 'Wait', new Uint8Array(0));
    await peer.waitForRequests(2);
    peer.socket!.destroy();
    for (const err of [await rejection(a), await rejection(b)]) {
      expect(hasCode(err, 'ERR_TTRPC_CONNECTION_CLOSED')).to.equal(true);
      expect(err).to.be.instanceOf(UnavailableError);
    }
    await client.closed;
    expect(client.isClosed).to.equal(true);
    expect(hasCode(await rejection(client.call('svc', 'M', new Uint8Array(0))), 'ERR_TTRPC_CONNECTION_CLOSED')).to.equal(true);
  });

  it('ignores frames for unknown streams and of other types, fails a garbage answer alone, and maps any status code', async () => {
    const guard = CrashGuard.install();
    try {
      const calls = [1, 3, 5, 7].map(() =>
        client.call('svc', 'M', new Uint8Array(0)).then(
          (p) => ConnectResponse.decode(p).shimPid,
          (e: unknown) => e,
        ),
      );
      await peer.waitForRequests(4);
      peer.write(encodeFrame({ streamId: 2, type: FrameType.Response, flags: 0, data: Buffer.from('garbage') })); // even: never a client's
      peer.write(encodeFrame({ streamId: 0xffffffff, type: FrameType.Response, flags: 0xff, data: Buffer.alloc(3) }));
      peer.write(encodeFrame({ streamId: 1, type: FrameType.Data, flags: 0, data: Buffer.from('x') })); // not an answer
      peer.write(encodeFrame({ streamId: 1, type: FrameType.Request, flags: 0, data: Buffer.from('x') }));
      const oversized = Buffer.alloc(10);
      oversized.writeUInt32BE(MAX_MESSAGE_SIZE + 1, 0);
      oversized.writeUInt32BE(9, 4); // a stream nobody waits on
      oversized[8] = FrameType.Response;
      peer.write(oversized);
      peer.write(Buffer.alloc(MAX_MESSAGE_SIZE + 1));
      peer.write(encodeFrame({ streamId: 3, type: FrameType.Response, flags: 0, data: Buffer.from([0xff, 0xff, 0xff]) })); // undecodable
      peer.answer(5, undefined, { code: -7, message: 'constructor' });
      peer.answer(7, undefined, { code: 0x7fffffff, message: '__proto__' });
      peer.answer(1, connectAnswer(11));
      const [first, garbage, negative, huge] = await Promise.all(calls);
      expect(first).to.equal(11);
      expect(hasCode(garbage, 'ERR_TTRPC_PROTOCOL')).to.equal(true);
      expect(hasCode(negative, 'ERR_TTRPC_INTERNAL')).to.equal(true);
      expect(hasCode(huge, 'ERR_TTRPC_INTERNAL')).to.equal(true);
      expect(client.isClosed).to.equal(false);
      guard.check();
    } finally {
      guard.dispose();
    }
  });

  it('fails only the call whose answer is over 4 MiB, without buffering it', async () => {
    const big = client.call('svc', 'Big', new Uint8Array(0));
    const small = client.call('svc', 'Small', new Uint8Array(0));
    await peer.waitForRequests(2);
    const header = Buffer.alloc(10);
    header.writeUInt32BE(MAX_MESSAGE_SIZE + 100, 0);
    header.writeUInt32BE(1, 4);
    header[8] = 2;
    peer.write(header);
    peer.write(Buffer.alloc(MAX_MESSAGE_SIZE + 100));
    peer.answer(3, connectAnswer(42));
    const err = await rejection(big);
    expect(hasCode(err, 'ERR_TTRPC_MESSAGE_TOO_LARGE')).to.equal(true);
    expect((err as NotFoundError).details).to.include({ direction: 'receive', length: MAX_MESSAGE_SIZE + 100 });
    expect(ConnectResponse.decode(await small).shimPid).to.equal(42);
  });

  it('refuses to send a request over 4 MiB', async () => {
    const err = await rejection(client.call('svc', 'Big', new Uint8Array(MAX_MESSAGE_SIZE)));
    expect(hasCode(err, 'ERR_TTRPC_MESSAGE_TOO_LARGE')).to.equal(true);
    expect(client.isClosed).to.equal(false);
  });

  it('validates options before sending', async () => {
    expect(hasCode(await rejection(client.call('s', 'm', new Uint8Array(0), { timeoutMs: -1 })), 'ERR_INVALID_ARGUMENT')).to.equal(true);
    expect(peer.requests).to.have.length(0);
  });
});

describe('shim/ttrpc client: connecting', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('ttrpc');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('fails at once with ERR_TTRPC_UNAVAILABLE when no socket file exists (ENOENT)', async () => {
    const started = Date.now();
    const err = await rejection(TtrpcClient.open(join(dir, 'missing.sock')));
    expect(hasCode(err, 'ERR_TTRPC_UNAVAILABLE')).to.equal(true);
    expect((err as UnavailableError).details.errno).to.equal('ENOENT');
    expect(Date.now() - started).to.be.lessThan(200);
  });

  it('fails at once with ERR_TTRPC_UNAVAILABLE on a dead socket file (ECONNREFUSED)', async () => {
    const path = join(dir, 'dead.sock');
    const { link, rename } = await import('node:fs/promises');
    const server = createServer().listen(path);
    await new Promise((resolve) => server.once('listening', resolve));
    await link(path, `${path}.keep`);
    await new Promise((resolve) => server.close(resolve));
    await rename(`${path}.keep`, path);
    const started = Date.now();
    const err = await rejection(TtrpcClient.open(`unix://${path}`));
    expect(hasCode(err, 'ERR_TTRPC_UNAVAILABLE')).to.equal(true);
    expect((err as UnavailableError).details.errno).to.equal('ECONNREFUSED');
    expect(Date.now() - started).to.be.lessThan(200);
  });

  it('rejects addresses that are not unix sockets', async () => {
    expect(hasCode(await rejection(TtrpcClient.open('tcp://127.0.0.1:1')), 'ERR_INVALID_ARGUMENT')).to.equal(true);
  });

  it('honours an already aborted signal', async () => {
    const reason = new Error('no');
    expect(await rejection(TtrpcClient.open(join(dir, 'x.sock'), { signal: AbortSignal.abort(reason) }))).to.equal(reason);
  });
});
