import { once } from 'node:events';
import { lstat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { type ContainerkitError, hasCode, newError } from '../../../lib/errors/index.js';
import { TaskDefinition } from '../../../lib/gen/containerd/runtime/task/v2/shim.js';
import { Response } from '../../../lib/gen/ttrpc/request.js';
import {
  createTtrpcClient,
  createTtrpcService,
  encodeFrame,
  FrameDecoder,
  FrameType,
  MAX_MESSAGE_SIZE,
  type TtrpcCallContext,
  TtrpcClient,
  TtrpcServer,
} from '../../../lib/shim/index.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('shim/ttrpc server', () => {
  let dir: string;
  let path: string;
  let server: TtrpcServer;
  let client: TtrpcClient | undefined;
  const contexts: TtrpcCallContext[] = [];
  let releaseWait: ((status: number) => void) | undefined;

  beforeEach(async () => {
    dir = await makeTempDir('ttrpc-server');
    path = join(dir, 'server.sock');
    contexts.length = 0;
    server = new TtrpcServer();
    server.register(
      createTtrpcService(TaskDefinition, {
        connect: (req, ctx) => {
          contexts.push(ctx);
          return { shimPid: 4321, taskPid: req.id.length };
        },
        wait: (_req, ctx) =>
          new Promise((resolve, reject) => {
            releaseWait = (exitStatus) => resolve({ exitStatus });
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
        state: () => ({ id: 'c', status: 2 }),
        kill: () => {
          throw newError('ERR_NOT_FOUND', 'process already finished');
        },
        pause: (_req, ctx) =>
          new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(newError('ERR_DEADLINE_EXCEEDED', 'handler deadline')))),
      }),
    );
    await server.listen(path);
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await server.close();
    await removeTempDir(dir);
  });

  it('serves typed calls with the namespace metadata, a Wait pending while other calls run', async () => {
    client = await TtrpcClient.open(path);
    const task = createTtrpcClient(TaskDefinition, client, { namespace: 'ns-x' });
    const wait = task.wait({ id: 'c' });
    const [connect, state] = await Promise.all([task.connect({ id: 'abc' }), task.state({ id: 'c' })]);
    expect(connect).to.deep.include({ shimPid: 4321, taskPid: 3 });
    expect(state.status).to.equal(2);
    expect(contexts[0]!.namespace).to.equal('ns-x');
    expect(contexts[0]!.metadata).to.deep.equal({ 'containerd-namespace-ttrpc': ['ns-x'] });
    expect(client.pendingCalls).to.equal(1);
    releaseWait!(7);
    expect((await wait).exitStatus).to.equal(7);
  });

  it('answers an OK status and the payload, as containerd servers do', async () => {
    const socket = createConnection(path);
    await once(socket, 'connect');
    const { Request } = await import('../../../lib/gen/ttrpc/request.js');
    const req = Request.encode(Request.fromPartial({ service: 'containerd.task.v2.Task', method: 'Connect', payload: Buffer.from('0a0178', 'hex') })).finish();
    socket.write(encodeFrame({ streamId: 1, type: FrameType.Request, flags: 0, data: req }));
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    const [item] = new FrameDecoder().push(chunk);
    socket.destroy();
    expect(item!.kind === 'frame' && item!.frame.type).to.equal(FrameType.Response);
    const data = item!.kind === 'frame' ? item!.frame.data : new Uint8Array(0);
    expect(Buffer.from(data).toString('hex')).to.equal('0a00' + '1205' + '08e121' + '1001');
    expect(Response.decode(data).status).to.deep.include({ code: 0 });
  });

  it('answers UNIMPLEMENTED for unknown services and methods, and the task client names v3 as unsupported', async () => {
    client = await TtrpcClient.open(path);
    const err = await rejection(client.call('containerd.task.v3.Task', 'Connect', new Uint8Array(0)));
    expect(hasCode(err, 'ERR_TTRPC_UNIMPLEMENTED')).to.equal(true);
    expect((err as { details: Record<string, unknown> }).details.grpcMessage).to.equal('service containerd.task.v3.Task');
    const err2 = await rejection(client.call('containerd.task.v2.Task', 'Resume', new Uint8Array(0)));
    expect((err2 as { details: Record<string, unknown> }).details.grpcMessage).to.equal('method Resume');

    const { ShimTaskClient } = await import('../../../lib/shim/index.js');
    const bare = new TtrpcServer();
    const barePath = join(dir, 'bare.sock');
    await bare.listen(barePath);
    try {
      const shim = await ShimTaskClient.open(barePath, { namespace: 'n' });
      const err3 = await rejection(shim.connect('c'));
      await shim.close();
      expect(hasCode(err3, 'ERR_SHIM_TASK_API_UNSUPPORTED')).to.equal(true);
      expect((err3 as Error).message).to.contain('containerd.task.v3.Task');
    } finally {
      await bare.close();
    }
  });

  it("sends a handler's error as the status of its category", async () => {
    client = await TtrpcClient.open(path);
    const err = await rejection(createTtrpcClient(TaskDefinition, client).kill({ id: 'c', signal: 9 }));
    expect(hasCode(err, 'ERR_TTRPC_NOT_FOUND')).to.equal(true);
    expect((err as Error).message).to.contain('process already finished');
  });

  it('aborts the handler when the caller deadline (timeout_nano) passes', async () => {
    client = await TtrpcClient.open(path);
    const err = await rejection(createTtrpcClient(TaskDefinition, client).pause({ id: 'c' }, { timeoutMs: 30 }));
    expect(hasCode(err, 'ERR_DEADLINE_EXCEEDED')).to.equal(true);
    expect((err as ContainerkitError).details).to.include({ transport: 'ttrpc' });
  });

  it('answers RESOURCE_EXHAUSTED to a request over 4 MiB and keeps serving the connection', async () => {
    const socket = createConnection(path);
    await once(socket, 'connect');
    const header = Buffer.alloc(10);
    header.writeUInt32BE(MAX_MESSAGE_SIZE + 1, 0);
    header.writeUInt32BE(1, 4);
    header[8] = FrameType.Request;
    socket.write(header);
    socket.write(Buffer.alloc(MAX_MESSAGE_SIZE + 1));
    const decoder = new FrameDecoder();
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    const [item] = decoder.push(chunk);
    const data = item!.kind === 'frame' ? item!.frame.data : new Uint8Array(0);
    expect(Response.decode(data).status?.code).to.equal(8);
    // The same connection still serves the next call.
    const { Request } = await import('../../../lib/gen/ttrpc/request.js');
    const req = Request.encode(Request.fromPartial({ service: 'containerd.task.v2.Task', method: 'State' })).finish();
    socket.write(encodeFrame({ streamId: 3, type: FrameType.Request, flags: 0, data: req }));
    const [chunk2] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    const [item2] = decoder.push(chunk2);
    expect(item2!.kind === 'frame' && item2!.frame.streamId).to.equal(3);
    expect(Response.decode(item2!.kind === 'frame' ? item2!.frame.data : new Uint8Array(0)).status?.code).to.equal(0);
  });

  it('closes a connection that uses an even stream id', async () => {
    const socket = createConnection(path);
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write(encodeFrame({ streamId: 2, type: FrameType.Request, flags: 0, data: new Uint8Array(0) }));
    await once(socket, 'close');
  });

  it('replaces a stale socket file, refuses a live one and anything else, and can leave a dead socket file on close', async () => {
    const other = new TtrpcServer();
    expect(hasCode(await rejection(other.listen(path)), 'ERR_ALREADY_EXISTS')).to.equal(true);
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    expect(hasCode(await rejection(other.listen(file)), 'ERR_ALREADY_EXISTS')).to.equal(true);

    await server.close({ keepSocketFile: true });
    expect((await lstat(path)).isSocket()).to.equal(true);
    const err = await rejection(TtrpcClient.open(path));
    expect((err as { details: Record<string, unknown> }).details.errno).to.equal('ECONNREFUSED');
    expect(((await lstat(path)).mode & 0o777).toString(8)).to.equal('600');

    server = new TtrpcServer();
    await server.listen(path);
    client = await TtrpcClient.open(path);
    expect(hasCode(await rejection(client.call('x', 'y', new Uint8Array(0))), 'ERR_TTRPC_UNIMPLEMENTED')).to.equal(true);
  });

  it('closing aborts running handlers and closes connections', async () => {
    client = await TtrpcClient.open(path);
    const wait = createTtrpcClient(TaskDefinition, client).wait({ id: 'c' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const failed = rejection(wait); // handled before the close can reject it
    await server.close();
    expect(hasCode(await failed, 'ERR_TTRPC_CONNECTION_CLOSED')).to.equal(true);
  });
});
