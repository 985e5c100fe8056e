// Fuzz: thousands of random and mutated frames into the ttrpc server and, from a hostile fake server, into the
// client. The process must stay up (no uncaughtException / unhandledRejection), every call must settle with its
// answer or a typed error, and well-formed calls must still be answered afterwards. Seeded: set TTRPC_FUZZ_SEED to
// replay a failure (the seed is in the suite title).

import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { ContainerkitError, newError } from '../../../lib/errors/index.js';
import { TaskExit } from '../../../lib/gen/containerd/events/task.js';
import { ForwardRequest } from '../../../lib/gen/containerd/services/events/ttrpc/v1/events.js';
import { Request, Response } from '../../../lib/gen/ttrpc/request.js';
import { createEventsService, encodeFrame, FrameDecoder, FrameType, GrpcCode, MAX_MESSAGE_SIZE, TtrpcClient, TtrpcServer } from '../../../lib/shim/index.js';
import { Random } from '../../fixtures/prng.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';
import { CrashGuard } from './crash-guard.js';
import { RawClient } from './raw-client.js';

const SEED = Number(process.env.TTRPC_FUZZ_SEED ?? 20261205);
const EVENTS = 'containerd.services.events.ttrpc.v1.Events';
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const BUFFER_CAP = 64 << 10;

function hostileString(r: Random, known: readonly string[]): string {
  const k = r.int(10);
  if (k < 5) return r.pick(known);
  if (k < 8) return r.pick(PROTO_NAMES);
  return r.bytes(r.int(12)).toString('latin1');
}

function hostileTimeout(r: Random): bigint {
  return r.pick([
    0n,
    -1n,
    1n,
    1_000_000n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    4_294_967_296_000_000n,
    BigInt.asIntN(64, BigInt(r.uint32()) * BigInt(r.uint32()) * 4099n),
  ]);
}

function hostilePayload(r: Random): Buffer {
  if (r.chance(0.5)) return r.bytes(r.int(48));
  const typeUrl = r.chance(0.5)
    ? `x/${r.pick(PROTO_NAMES)}`
    : r.pick(['containerd.events.TaskExit', 'containerd.events.TaskCreate', '', 'types/containerd.events.TaskOOM']);
  const value = r.chance(0.5) ? Buffer.from(TaskExit.encode(TaskExit.fromPartial({ containerId: 'c', pid: r.int(1000) })).finish()) : r.bytes(r.int(32));
  const encoded = ForwardRequest.encode({ envelope: { timestamp: undefined, topic: '/tasks/exit', namespace: 'ns', event: { typeUrl, value } } }).finish();
  return r.chance(0.3) ? r.mutate(encoded) : Buffer.from(encoded);
}

function hostileRequest(r: Random): Buffer {
  const metadata = Array.from({ length: r.int(6) }, () => ({
    key: hostileString(r, ['containerd-namespace-ttrpc', 'a']),
    value: r.bytes(r.int(8)).toString('latin1'),
  }));
  const request = Request.fromPartial({
    service: hostileString(r, ['fuzz.Svc', EVENTS]),
    method: hostileString(r, ['Echo', 'Throw', 'Tick', 'Forward']),
    payload: hostilePayload(r),
    timeoutNano: hostileTimeout(r),
    metadata,
  });
  const bytes = Buffer.from(Request.encode(request).finish());
  return r.chance(0.35) ? r.mutate(bytes) : bytes;
}

describe(`shim/ttrpc fuzz (seed ${SEED})`, function () {
  this.timeout(120_000);
  let guard: CrashGuard;
  let dir: string;

  beforeEach(async () => {
    guard = CrashGuard.install();
    dir = await makeTempDir('ttrpc-fuzz');
  });
  afterEach(async () => {
    guard.dispose();
    await removeTempDir(dir);
  });

  it('server: survives 4000 hostile frames on 40 connections and still answers well-formed calls', async () => {
    const r = new Random(SEED);
    const path = join(dir, 's.sock');
    const server = new TtrpcServer({ maxBufferedBytes: BUFFER_CAP });
    const throwables: unknown[] = [new Error('boom'), newError('ERR_NOT_FOUND', 'gone'), undefined, 'text', Object.create(null), Symbol('s')];
    server.register({
      name: 'fuzz.Svc',
      methods: new Map([
        ['Echo', async (payload: Uint8Array) => payload],
        [
          'Throw',
          async () => {
            throw r.pick(throwables);
          },
        ],
        [
          'Tick',
          async (payload: Uint8Array) => {
            await new Promise((resolve) => setImmediate(resolve));
            return payload;
          },
        ],
      ]),
    });
    let forwarded = 0;
    server.register(
      createEventsService(() => {
        forwarded++;
        if (forwarded % 7 === 0) throw new Error('event handler failed');
      }),
    );
    await server.listen(path);
    let framesSent = 0;
    let answeredWellFramed = 0;
    try {
      for (let batch = 0; batch < 5; batch++) {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const c = await RawClient.connect(path);
            const wellFramed = r.chance(0.5); // only frames with odd, increasing stream ids and honest lengths
            const expected: number[] = [];
            let nextId = 1;
            const chunks: Buffer[] = [];
            for (let i = 0; i < 100; i++) {
              framesSent++;
              const kind = wellFramed ? 2 + r.int(2) : r.int(5);
              if (kind === 0) {
                chunks.push(r.bytes(r.int(64))); // raw garbage: desynchronises the framing
              } else if (kind === 1) {
                const data = r.bytes(r.int(64));
                chunks.push(encodeFrame({ streamId: r.uint32(), type: r.int(256), flags: r.int(256), data }));
              } else if (kind === 2 || kind === 3) {
                const id = nextId;
                nextId += 2;
                const flags = r.chance(0.9) ? 0 : r.int(256);
                if (r.chance(0.05)) {
                  // Over the connection's limit: skipped unbuffered, answered RESOURCE_EXHAUSTED.
                  const data = r.bytes(BUFFER_CAP + 1 + r.int(1000));
                  chunks.push(encodeFrame({ streamId: id, type: FrameType.Request, flags, data }));
                } else {
                  chunks.push(encodeFrame({ streamId: id, type: FrameType.Request, flags, data: hostileRequest(r) }));
                }
                expected.push(id);
              } else {
                const data = r.bytes(r.int(32));
                chunks.push(encodeFrame({ streamId: r.chance(0.5) ? nextId : r.uint32(), type: FrameType.Data, flags: r.int(256), data }));
              }
            }
            // Cut the stream at random points, as a socket may.
            const all = Buffer.concat(chunks);
            for (let at = 0; at < all.length; ) {
              const n = 1 + r.int(4096);
              c.write(all.subarray(at, at + n));
              at += n;
            }
            if (wellFramed) {
              // Every request is answered exactly once (an error status at worst), the probe with its echo.
              for (const id of expected) await guard.race(c.answer(id));
              // Then a well-formed call (after the answers: the burst above may have been refused for the buffer cap).
              const probe = nextId;
              c.request(probe, { service: 'fuzz.Svc', method: 'Echo', payload: Buffer.from('probe') });
              const answer = await guard.race(c.answer(probe));
              expect(answer.status?.code ?? 0).to.equal(GrpcCode.OK);
              expect(Buffer.from(answer.payload).toString()).to.equal('probe');
              answeredWellFramed += expected.length + 1;
              c.destroy();
            } else {
              c.socket.end();
              await guard.race(c.closed);
            }
          }),
        );
        guard.check();
      }
      // The server still serves honest clients.
      const client = await TtrpcClient.open(path);
      expect(Buffer.from(await client.call('fuzz.Svc', 'Echo', Buffer.from('after'))).toString()).to.equal('after');
      const envelope = {
        timestamp: undefined,
        topic: '/tasks/exit',
        namespace: 'ns',
        event: { typeUrl: 'containerd.events.TaskExit', value: Buffer.from(TaskExit.encode(TaskExit.fromPartial({ containerId: 'c' })).finish()) },
      };
      const before = forwarded;
      await client.call(EVENTS, 'Forward', ForwardRequest.encode({ envelope }).finish()).catch(() => undefined);
      expect(forwarded).to.equal(before + 1);
      await client.close();
    } finally {
      await server.close();
    }
    expect(framesSent).to.equal(4000);
    expect(answeredWellFramed).to.be.greaterThan(0);
    guard.check();
  });
  it('client: settles every call with its answer or a typed error under 2000 hostile answers, and still works', async () => {
    const r = new Random(SEED ^ 0x5eed);
    const path = join(dir, 'hostile.sock');
    let honest = false;
    let oversizedLeft = 3; // each costs 4 MiB of bytes on the wire
    // Per round: the streams answered honestly before anything could desynchronise the framing.
    let cleanAnswers = new Map<number, string>();
    let desynced = false;
    let requestsSeen = 0;
    let roundDone: (() => void) | undefined;
    const respond = (socket: Socket, streamId: number, payload: Buffer): void => {
      const ok = (): Buffer => Buffer.from(Response.encode(Response.fromPartial({ status: { code: 0, message: '' }, payload })).finish());
      if (honest) {
        socket.write(encodeFrame({ streamId, type: FrameType.Response, flags: 0, data: ok() }));
        return;
      }
      const k = r.int(100);
      if (k < 30) {
        socket.write(encodeFrame({ streamId, type: FrameType.Response, flags: 0, data: ok() }));
        if (!desynced) cleanAnswers.set(streamId, payload.toString('latin1'));
      } else if (k < 45) {
        const status = { code: r.chance(0.5) ? r.int(20) : r.uint32() | 0, message: r.bytes(r.int(16)).toString('latin1') };
        socket.write(encodeFrame({ streamId, type: FrameType.Response, flags: r.int(256), data: Response.encode(Response.fromPartial({ status })).finish() }));
      } else if (k < 60) {
        socket.write(encodeFrame({ streamId, type: FrameType.Response, flags: 0, data: r.bytes(r.int(64)) }));
      } else if (k < 75) {
        socket.write(encodeFrame({ streamId, type: FrameType.Response, flags: 0, data: r.mutate(ok()) }));
      } else if (k < 85) {
        // An unknown stream: even (clients use odd ids) or far beyond any id used.
        const other = r.chance(0.5) ? (r.uint32() & ~1) >>> 0 : 0x80000001 + 2 * r.int(1000);
        socket.write(
          encodeFrame({
            streamId: other,
            type: r.pick([FrameType.Response, FrameType.Request, FrameType.Data, r.int(256)]),
            flags: r.int(256),
            data: r.bytes(r.int(64)),
          }),
        );
      } else if (k < 90) {
        socket.write(encodeFrame({ streamId, type: r.pick([FrameType.Request, FrameType.Data, 0, 255]), flags: r.int(256), data: r.bytes(r.int(32)) }));
      } else if (k < 93 && oversizedLeft > 0) {
        oversizedLeft--;
        const header = Buffer.alloc(10);
        header.writeUInt32BE(MAX_MESSAGE_SIZE + 1 + r.int(100), 0);
        header.writeUInt32BE(streamId, 4);
        header[8] = FrameType.Response;
        socket.write(header);
        socket.write(Buffer.alloc(header.readUInt32BE(0)));
      } else if (k < 96) {
        desynced = true;
        socket.write(r.bytes(1 + r.int(64)));
      }
      // else: never answered; settles when the round's connection closes.
    };
    const hostile: Server = createServer((socket) => {
      socket.on('error', () => undefined);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) {
          if (item.kind !== 'frame') continue;
          requestsSeen++;
          respond(socket, item.frame.streamId, Buffer.from(Request.decode(item.frame.data).payload));
          roundDone?.();
        }
      });
    });
    hostile.listen(path);
    await once(hostile, 'listening');
    const sockets = new Set<Socket>();
    hostile.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    let settled = 0;
    try {
      for (let round = 0; round < 40; round++) {
        cleanAnswers = new Map();
        desynced = false;
        requestsSeen = 0;
        const client = await TtrpcClient.open(path);
        const K = 50;
        const all = new Promise<void>((resolve) => (roundDone = () => requestsSeen === K && resolve()));
        const calls = Array.from({ length: K }, (_, i) =>
          client.call('fuzz.Svc', r.pick(['Echo', ...PROTO_NAMES]), Buffer.from(`call-${round}-${i}`), { metadata: { [r.pick(PROTO_NAMES)]: 'x' } }).then(
            (payload) => ({ ok: true as const, id: 2 * i + 1, payload: Buffer.from(payload).toString('latin1') }),
            (err: unknown) => ({ ok: false as const, id: 2 * i + 1, err }),
          ),
        );
        await guard.race(all);
        // Every request has had its treatment; ending the connection (after what was written) settles the rest.
        for (const s of sockets) s.end();
        for (const outcome of await guard.race(Promise.all(calls))) {
          settled++;
          if (outcome.ok) continue;
          expect(outcome.err, String(outcome.err)).to.be.instanceOf(ContainerkitError);
          // A ttrpc failure, or a DEADLINE_EXCEEDED status the peer sent (one code whatever the transport).
          expect((outcome.err as ContainerkitError).code).to.match(/^(ERR_TTRPC_|ERR_DEADLINE_EXCEEDED$)/);
        }
        // An honest answer sent before any garbage reached its own call, intact.
        const outcomes = new Map((await Promise.all(calls)).map((o) => [o.id, o]));
        for (const [id, payload] of cleanAnswers) {
          const o = outcomes.get(id)!;
          expect(o.ok && o.payload, `round ${round} stream ${id}: ${o.ok ? '' : String((o as { err: unknown }).err)}`).to.equal(payload);
        }
        await client.closed;
        guard.check();
      }
      // An honest server afterwards: calls answer as they should.
      honest = true;
      roundDone = undefined;
      const client = await TtrpcClient.open(path);
      expect(Buffer.from(await client.call('fuzz.Svc', 'Echo', Buffer.from('after'))).toString()).to.equal('after');
      await client.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hostile.close(resolve));
    }
    expect(settled).to.equal(2000);
    guard.check();
  });
});
