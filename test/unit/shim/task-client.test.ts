import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { TaskDefinition } from '../../../lib/gen/containerd/runtime/task/v2/shim.js';
import { Options, ProcessDetails } from '../../../lib/gen/containerd/types/runc/options/oci.js';
import { Any } from '../../../lib/gen/google/protobuf/any.js';
import { createTtrpcService, encodeRuncOptions, OCI_PROCESS_TYPE_URL, ShimTaskClient, TtrpcServer } from '../../../lib/shim/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

describe('shim: ShimTaskClient against a fake task service', () => {
  let dir: string;
  let server: TtrpcServer;
  let task: ShimTaskClient;
  const seen: Record<string, unknown> = {};

  before(async () => {
    dir = await makeTempDir('task-client');
    server = new TtrpcServer();
    server.register(
      createTtrpcService(TaskDefinition, {
        // 'c' runs; 's' stopped with Go's zero time as its exit time.
        state: (req) => ({
          id: req.id,
          pid: 42,
          status: req.id === 's' ? 3 : 2,
          exitStatus: req.id === 's' ? 9 : 0,
          exitedAt: { seconds: -62135596800n, nanos: 0 },
        }),
        wait: () => ({ exitStatus: 137, exitedAt: { seconds: -1n, nanos: 250_000_000 } }),
        delete: () => ({ pid: 42, exitStatus: 7, exitedAt: { seconds: 1_700_000_000n, nanos: 999_999_999 } }),
        kill: (req) => void (seen.kill = req),
        create: (req) => {
          seen.create = req;
          return { pid: 42 };
        },
        exec: (req) => void (seen.exec = req),
        pids: () => ({
          processes: [
            { pid: 42 },
            { pid: 43, info: { typeUrl: 'containerd.runc.v1.ProcessDetails', value: Buffer.from(ProcessDetails.encode({ execId: 'e1' }).finish()) } },
          ],
        }),
      }),
    );
    await server.listen(join(dir, 's.sock'));
    task = await ShimTaskClient.open(`unix://${join(dir, 's.sock')}`, { namespace: 'n' });
  });
  after(async () => {
    await task.close();
    await server.close();
    await removeTempDir(dir);
  });

  it('returns domain types: status names, Dates, no exit time for Go zero time', async () => {
    expect(await task.state('c')).to.deep.include({ id: 'c', pid: 42, status: 'running', exit: undefined, execId: undefined });
    expect((await task.state('s')).exit).to.deep.equal({ code: 9, exitedAt: undefined });
    expect((await task.wait('c')).exitedAt!.getTime()).to.equal(-750);
    const deleted = await task.delete('c');
    expect(deleted).to.deep.include({ pid: 42, code: 7 });
    expect(deleted.exitedAt!.getTime()).to.equal(1_700_000_000_999);
    expect(await task.pids('c')).to.deep.equal([
      { pid: 42, execId: undefined },
      { pid: 43, execId: 'e1' },
    ]);
  });

  it('encodes requests: signal names, runc options as an Any, exec specs as JSON', async () => {
    await task.kill('c', 'SIGTERM', { all: true });
    expect(seen.kill).to.deep.include({ id: 'c', signal: 15, all: true });
    await task.create({ id: 'c', bundle: '/b/c', stdout: '/f/o', runcOptions: { root: '/r/runc', systemdCgroup: true } });
    const create = seen.create as { options: { typeUrl: string; value: Uint8Array }; stdout: string };
    expect(create.stdout).to.equal('/f/o');
    expect(create.options.typeUrl).to.equal('containerd.runc.v1.Options');
    expect(Options.decode(create.options.value)).to.deep.include({ root: '/r/runc', systemdCgroup: true });
    await task.exec('c', 'e1', { process: { args: ['true'], cwd: '/' } as never });
    const exec = seen.exec as { spec: { typeUrl: string; value: Uint8Array } };
    expect(exec.spec.typeUrl).to.equal(OCI_PROCESS_TYPE_URL);
    expect(JSON.parse(Buffer.from(exec.spec.value).toString())).to.deep.equal({ args: ['true'], cwd: '/' });
  });

  it('encodes the runc options for the stdin of `start` as a serialized Any', () => {
    const any = Any.decode(encodeRuncOptions({ root: '/r' }));
    expect(any.typeUrl).to.equal('containerd.runc.v1.Options');
    expect(Options.decode(any.value).root).to.equal('/r');
  });

  it('validates arguments before calling', async () => {
    for (const attempt of [task.kill('c', 'SIGNOPE' as never), task.state(''), task.resizePty('c', { width: -1, height: 2 })]) {
      let thrown: unknown;
      await attempt.catch((err: unknown) => (thrown = err));
      expect(hasCode(thrown, 'ERR_INVALID_ARGUMENT')).to.equal(true);
    }
    let unimplemented: unknown;
    await task.stats('c').catch((err: unknown) => (unimplemented = err));
    expect(hasCode(unimplemented, 'ERR_TTRPC_UNIMPLEMENTED')).to.equal(true);
  });

  it('counts a shim that exits before answering Shutdown as shut down, and any other call cut so as failed', async () => {
    const exiting = new TtrpcServer();
    exiting.register(
      createTtrpcService(TaskDefinition, {
        // Like a shim that exits before its answer is written: the connection closes, no answer comes.
        shutdown: () => new Promise<never>(() => void exiting.close()),
        state: () => new Promise<never>(() => void exiting.close()),
      }),
    );
    const path = join(dir, 'exiting.sock');
    await exiting.listen(path);
    const client = await ShimTaskClient.open(`unix://${path}`, { namespace: 'n' });
    try {
      await client.shutdown('c', { timeoutMs: 5000 });
    } finally {
      await client.close();
    }

    await exiting.listen(path);
    const other = await ShimTaskClient.open(`unix://${path}`, { namespace: 'n' });
    try {
      const err = await other.state('c', { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(hasCode(err, 'ERR_TTRPC_CONNECTION_CLOSED'), String(err)).to.equal(true);
    } finally {
      await other.close();
      await exiting.close();
    }
  });
});
