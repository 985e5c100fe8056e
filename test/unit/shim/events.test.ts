import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import {
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from '../../../lib/gen/containerd/events/task.js';
import { Envelope, EventsDefinition } from '../../../lib/gen/containerd/services/events/ttrpc/v1/events.js';
import type { TaskEvent } from '../../../lib/oci/index.js';
import { createEventsService, createTtrpcClient, decodeShimEvent, TtrpcClient, TtrpcServer } from '../../../lib/shim/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const ts = { seconds: 1795834232n, nanos: 228324370 };
const envelope = (topic: string, typeUrl: string, value: Uint8Array): Uint8Array =>
  Envelope.encode({ timestamp: ts, namespace: 'ns', topic, event: { typeUrl, value: Buffer.from(value) } }).finish();

describe('shim events: decoding', () => {
  it('decodes each task event by its type URL', () => {
    const cases: Array<[string, string, Uint8Array, Partial<TaskEvent>]> = [
      [
        '/tasks/create',
        'containerd.events.TaskCreate',
        TaskCreate.encode(
          TaskCreate.fromPartial({
            containerId: 'c',
            bundle: '/b/c',
            pid: 10,
            io: { stdout: '/f/out' },
            rootfs: [{ type: 'bind', source: '/x', options: ['rbind'] }],
          }),
        ).finish(),
        {
          type: 'create',
          containerId: 'c',
          bundle: '/b/c',
          pid: 10,
          io: { stdin: '', stdout: '/f/out', stderr: '', terminal: false },
          rootfs: [{ type: 'bind', source: '/x', options: ['rbind'] }],
          checkpoint: '',
        },
      ],
      ['/tasks/start', 'containerd.events.TaskStart', TaskStart.encode({ containerId: 'c', pid: 10 }).finish(), { type: 'start', containerId: 'c', pid: 10 }],
      [
        '/tasks/exit',
        'containerd.events.TaskExit',
        TaskExit.encode({ containerId: 'c', id: 'c', pid: 10, exitStatus: 7, exitedAt: ts }).finish(),
        { type: 'exit', containerId: 'c', execId: undefined, pid: 10, code: 7, exitedAt: new Date('2026-11-28T02:50:32.228Z') },
      ],
      [
        '/tasks/exit',
        'containerd.events.TaskExit',
        TaskExit.encode({ containerId: 'c', id: 'e1', pid: 11, exitStatus: 3, exitedAt: undefined }).finish(),
        { type: 'exit', containerId: 'c', execId: 'e1', pid: 11, code: 3, exitedAt: undefined },
      ],
      [
        '/tasks/delete',
        'containerd.events.TaskDelete',
        TaskDelete.encode({ containerId: 'c', id: 'c', pid: 10, exitStatus: 137, exitedAt: ts }).finish(),
        { type: 'delete', containerId: 'c', execId: undefined, pid: 10, code: 137 },
      ],
      ['/tasks/oom', 'containerd.events.TaskOOM', TaskOOM.encode({ containerId: 'c' }).finish(), { type: 'oom', containerId: 'c' }],
      [
        '/tasks/exec-added',
        'containerd.events.TaskExecAdded',
        TaskExecAdded.encode({ containerId: 'c', execId: 'e1' }).finish(),
        { type: 'exec-added', containerId: 'c', execId: 'e1' },
      ],
      [
        '/tasks/exec-started',
        'containerd.events.TaskExecStarted',
        TaskExecStarted.encode({ containerId: 'c', execId: 'e1', pid: 11 }).finish(),
        { type: 'exec-started', containerId: 'c', execId: 'e1', pid: 11 },
      ],
      ['/tasks/paused', 'containerd.events.TaskPaused', TaskPaused.encode({ containerId: 'c' }).finish(), { type: 'paused', containerId: 'c' }],
      [
        '/tasks/resumed',
        'types.googleapis.com/containerd.events.TaskResumed',
        TaskResumed.encode({ containerId: 'c' }).finish(),
        { type: 'resumed', containerId: 'c' },
      ],
    ];
    for (const [topic, typeUrl, value, expected] of cases) {
      const event = decodeShimEvent(envelope(topic, typeUrl, value));
      expect(event, topic).to.deep.include({ topic, namespace: 'ns', ...expected });
      expect(event.timestamp?.toISOString()).to.equal('2026-11-28T02:50:32.228Z');
    }
  });

  it('keeps an unknown payload raw, and refuses undecodable bytes', () => {
    const event = decodeShimEvent(envelope('/x', 'example.Other', Buffer.from([1, 2])));
    expect(event).to.deep.include({ type: 'unknown', typeUrl: 'example.Other' });
    expect(Buffer.from((event as { value: Uint8Array }).value).toString('hex')).to.equal('0102');
    let thrown: unknown;
    try {
      decodeShimEvent(envelope('/tasks/exit', 'containerd.events.TaskExit', Buffer.from([0x0a, 0xff])));
    } catch (err) {
      thrown = err;
    }
    expect(hasCode(thrown, 'ERR_TTRPC_INVALID_ARGUMENT')).to.equal(true);
  });
});

describe('shim events: the Forward service', () => {
  it('hands forwarded envelopes to the handler with the call namespace', async () => {
    const dir = await makeTempDir('events');
    const server = new TtrpcServer();
    const got: Array<[TaskEvent, string | undefined]> = [];
    server.register(createEventsService((event, ctx) => void got.push([event, ctx.namespace])));
    await server.listen(join(dir, 'events.sock'));
    const client = await TtrpcClient.open(join(dir, 'events.sock'));
    try {
      const events = createTtrpcClient(EventsDefinition, client, { namespace: 'ns' });
      await events.forward({
        envelope: {
          namespace: 'ns',
          topic: '/tasks/oom',
          event: { typeUrl: 'containerd.events.TaskOOM', value: Buffer.from(TaskOOM.encode({ containerId: 'c9' }).finish()) },
        },
      });
      expect(got).to.have.length(1);
      expect(got[0]![0]).to.deep.include({ type: 'oom', containerId: 'c9', topic: '/tasks/oom' });
      expect(got[0]![1]).to.equal('ns');
      let thrown: unknown;
      await events.forward({}).catch((err: unknown) => (thrown = err));
      expect(hasCode(thrown, 'ERR_TTRPC_INVALID_ARGUMENT')).to.equal(true);
    } finally {
      await client.close();
      await server.close();
      await removeTempDir(dir);
    }
  });
});
