import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { TaskExit } from '../../../lib/gen/containerd/events/task.js';
import { Envelope, ForwardRequest } from '../../../lib/gen/containerd/services/events/ttrpc/v1/events.js';
import type { TaskEvent } from '../../../lib/oci/index.js';
import { createEventsService, decodeShimEvent, GrpcCode, type TtrpcCallContext, type TtrpcRawHandler, TtrpcServer } from '../../../lib/shim/index.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { CrashGuard } from './crash-guard.js';
import { RawClient } from './raw-client.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

describe('shim/ttrpc server: hostile frames answer on their stream and never reach the process', () => {
  let dir: string;
  let server: TtrpcServer;
  let path: string;
  let guard: CrashGuard;
  let raw: RawClient | undefined;
  const contexts: TtrpcCallContext[] = [];
  const events: TaskEvent[] = [];
  let handler: TtrpcRawHandler;

  beforeEach(async () => {
    guard = CrashGuard.install();
    dir = await makeTempDir('ttrpc-hostile');
    path = join(dir, 's.sock');
    contexts.length = 0;
    events.length = 0;
    handler = async () => new Uint8Array([1, 2, 3]);
    server = new TtrpcServer();
    server.register({ name: 'test.Svc', methods: new Map([['Call', (payload, ctx) => (contexts.push(ctx), handler(payload, ctx))]]) });
    server.register(createEventsService((event) => void events.push(event)));
    await server.listen(path);
    raw = await RawClient.connect(path);
  });
  afterEach(async () => {
    raw?.destroy();
    await server.close();
    await removeTempDir(dir);
    guard.dispose(); // each test checks its guard itself, so one failure does not skip the rest
    guard.check();
  });

  it('keeps metadata keyed __proto__, constructor and other prototype names as plain entries', async () => {
    const metadata = [...PROTOTYPE_NAMES.map((key) => ({ key, value: `v-${key}` })), { key: 'Constructor', value: 'second' }];
    raw!.request(1, { service: 'test.Svc', method: 'Call', metadata });
    const answer = await guard.race(raw!.answer(1));
    expect(answer.status?.code ?? 0).to.equal(GrpcCode.OK);
    const seen = contexts[0]!.metadata;
    expect(Object.getPrototypeOf(seen)).to.equal(null);
    // Keys arrive lower-cased.
    expect(Object.keys(seen).sort()).to.deep.equal(PROTOTYPE_NAMES.map((k) => k.toLowerCase()).sort());
    expect(seen['__proto__']).to.deep.equal(['v-__proto__']);
    expect(seen['constructor']).to.deep.equal(['v-constructor', 'second']);
    expect(seen['tostring']).to.deep.equal(['v-toString']);
    expect(contexts[0]!.namespace).to.equal(undefined);
    guard.check();
  });

  it('clamps a timeout_nano too large for a timer, and ignores a negative one', async () => {
    let abortedSoon: boolean | undefined;
    handler = async (_payload, ctx) => {
      await sleep(20); // an overflowing timer would fire after 1 ms
      abortedSoon = ctx.signal.aborted;
      return new Uint8Array(0);
    };
    raw!.request(1, { service: 'test.Svc', method: 'Call', timeoutNano: 2n ** 63n - 1n });
    expect((await guard.race(raw!.answer(1))).status?.code ?? 0).to.equal(GrpcCode.OK);
    expect(abortedSoon).to.equal(false);
    raw!.request(3, { service: 'test.Svc', method: 'Call', timeoutNano: 4_294_967_296_000_000n }); // 2^32 ms
    expect((await guard.race(raw!.answer(3))).status?.code ?? 0).to.equal(GrpcCode.OK);
    expect(abortedSoon).to.equal(false);
    raw!.request(5, { service: 'test.Svc', method: 'Call', timeoutNano: -5n });
    expect((await guard.race(raw!.answer(5))).status?.code ?? 0).to.equal(GrpcCode.OK);
    expect(abortedSoon).to.equal(false);
    guard.check();
  });

  it("aborts a handler at the caller's deadline with DEADLINE_EXCEEDED", async () => {
    handler = (_payload, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    raw!.request(1, { service: 'test.Svc', method: 'Call', timeoutNano: 5_000_000n });
    expect((await guard.race(raw!.answer(1))).status?.code).to.equal(GrpcCode.DEADLINE_EXCEEDED);
    guard.check();
  });

  it('answers an error status whatever a handler throws, and keeps serving', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const symbolMessage = Object.assign(new Error('x'), { message: Symbol('not a string') });
    const throwers: Array<() => never> = [
      () => {
        throw proxy; // `instanceof` on a revoked proxy throws
      },
      () => {
        throw symbolMessage;
      },
      () => {
        throw undefined;
      },
      () => {
        throw Object.create(null);
      },
    ];
    let id = 1;
    for (const thrower of throwers) {
      handler = async () => thrower();
      raw!.request(id, { service: 'test.Svc', method: 'Call' });
      expect((await guard.race(raw!.answer(id))).status?.code).to.equal(GrpcCode.UNKNOWN);
      id += 2;
      handler = () => thrower(); // synchronous throw, not a rejection
      raw!.request(id, { service: 'test.Svc', method: 'Call' });
      expect((await guard.race(raw!.answer(id))).status?.code).to.equal(GrpcCode.UNKNOWN);
      id += 2;
    }
    handler = async () => new Uint8Array([9]);
    raw!.request(id, { service: 'test.Svc', method: 'Call' });
    expect(Buffer.from((await guard.race(raw!.answer(id))).payload)).to.deep.equal(Buffer.from([9]));
    guard.check();
  });

  it('forwards an event whose type URL is a prototype name as unknown', async () => {
    let id = 1;
    for (const name of PROTOTYPE_NAMES) {
      for (const typeUrl of [name, `types.example.com/${name}`]) {
        const envelope = { timestamp: undefined, topic: '/tasks/exit', namespace: 'ns', event: { typeUrl, value: Buffer.from([1, 2]) } };
        raw!.request(id, {
          service: 'containerd.services.events.ttrpc.v1.Events',
          method: 'Forward',
          payload: Buffer.from(ForwardRequest.encode({ envelope }).finish()),
        });
        expect((await guard.race(raw!.answer(id))).status?.code ?? 0).to.equal(GrpcCode.OK);
        id += 2;
      }
    }
    expect(events.map((e) => e.type)).to.deep.equal(new Array(PROTOTYPE_NAMES.length * 2).fill('unknown'));
    expect(events.map((e) => (e.type === 'unknown' ? e.typeUrl : ''))).to.deep.equal(PROTOTYPE_NAMES.flatMap((n) => [n, `types.example.com/${n}`]));
    guard.check();
  });
});

describe('shim events: a type URL naming a prototype property', () => {
  it('decodes as unknown, while known names still decode', () => {
    for (const name of PROTOTYPE_NAMES) {
      const bytes = Envelope.encode({
        timestamp: undefined,
        topic: '/x',
        namespace: 'ns',
        event: { typeUrl: `p/${name}`, value: Buffer.from([8, 1]) },
      }).finish();
      const event = decodeShimEvent(bytes);
      expect(event.type, name).to.equal('unknown');
      expect(event).to.deep.include({ typeUrl: `p/${name}` });
    }
    const exit = Envelope.encode({
      timestamp: undefined,
      topic: '/tasks/exit',
      namespace: 'ns',
      event: { typeUrl: 'containerd.events.TaskExit', value: Buffer.from(TaskExit.encode(TaskExit.fromPartial({ containerId: 'c', pid: 3 })).finish()) },
    }).finish();
    expect(decodeShimEvent(exit)).to.deep.include({ type: 'exit', containerId: 'c', pid: 3 });
  });
});
