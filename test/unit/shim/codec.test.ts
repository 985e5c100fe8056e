import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { ConnectRequest, ConnectResponse, WaitResponse } from '../../../lib/gen/containerd/runtime/task/v2/shim.js';
import { Request, Response } from '../../../lib/gen/ttrpc/request.js';
import { decodeFrameHeader, encodeFrame, FrameDecoder, FrameType, MAX_MESSAGE_SIZE } from '../../../lib/shim/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

function connectFrame(id: string, namespace: string, streamId: number): Buffer {
  const request = Request.fromPartial({
    service: 'containerd.task.v2.Task',
    method: 'Connect',
    payload: Buffer.from(ConnectRequest.encode({ id }).finish()),
    metadata: [{ key: 'containerd-namespace-ttrpc', value: namespace }],
  });
  return encodeFrame({ streamId, type: FrameType.Request, flags: 0, data: Request.encode(request).finish() });
}

describe('shim/ttrpc codec: frames against the reference bytes', () => {
  it('encodes the Connect request of the shim spike byte for byte (93 bytes)', () => {
    const expected = hex(
      '00 00 00 53 00 00 00 01 01 00 0a 17 63 6f 6e 74 61 69 6e 65 72 64 2e 74 61 73 6b 2e 76 32 2e 54 61 73 6b 12 07 43 6f 6e 6e 65 63 74 1a 08 0a 06 73 70 69 6b 65 31 2a 25 0a 1a 63 6f 6e 74 61 69 6e 65 72 64 2d 6e 61 6d 65 73 70 61 63 65 2d 74 74 72 70 63 12 07 63 6b 73 70 69 6b 65',
    );
    const frame = connectFrame('spike1', 'ckspike', 1);
    expect(frame.length).to.equal(93);
    expect(frame.toString('hex')).to.equal(expected.toString('hex'));
  });

  it('encodes the PROTOCOLS.md §3.4 example (Connect{id:"c1"}, namespace default, 79-byte request)', () => {
    const body =
      '0a17' +
      ascii('containerd.task.v2.Task') +
      '1207' +
      ascii('Connect') +
      '1a04' +
      '0a026331' +
      '2a25' +
      '0a1a' +
      ascii('containerd-namespace-ttrpc') +
      '1207' +
      ascii('default');
    const frame = connectFrame('c1', 'default', 1);
    expect(frame.subarray(0, 10).toString('hex')).to.equal('0000004f000000010100');
    expect(frame.subarray(10).toString('hex')).to.equal(body);
    expect(frame.length - 10).to.equal(79);
  });

  it('decodes the §3.4 reply (empty status, ConnectResponse{1234, 5678})', () => {
    const frame = hex('00 00 00 0a 00 00 00 01 02 00 0a 00 12 06 08 d2 09 10 ae 2c');
    const header = decodeFrameHeader(frame);
    expect(header).to.deep.equal({ length: 10, streamId: 1, type: FrameType.Response, flags: 0 });
    const response = Response.decode(frame.subarray(10));
    expect(response.status?.code).to.equal(0);
    expect(ConnectResponse.decode(response.payload)).to.deep.include({ shimPid: 1234, taskPid: 5678 });
  });

  it('decodes the spike replies: no status on success, 0-byte Empty, error status without payload', () => {
    const connect = hex('00 00 00 06 00 00 00 01 02 00 12 04 08 a3 dd 01');
    const r1 = Response.decode(connect.subarray(10));
    expect(r1.status).to.equal(undefined);
    expect(ConnectResponse.decode(r1.payload).shimPid).to.equal(28323);

    const wait = hex('00 00 00 11 00 00 00 07 02 00 12 0f 08 07 12 0b 08 f8 82 a9 d8 06 10 92 e8 ef 6c');
    expect(decodeFrameHeader(wait).streamId).to.equal(7);
    const w = WaitResponse.decode(Response.decode(wait.subarray(10)).payload);
    expect(w.exitStatus).to.equal(7);
    expect(w.exitedAt).to.deep.equal({ seconds: 1795834232n, nanos: 228324370 });

    const empty = hex('00 00 00 00 00 00 00 0f 02 00');
    expect(decodeFrameHeader(empty)).to.deep.equal({ length: 0, streamId: 15, type: 2, flags: 0 });
    const r3 = Response.decode(empty.subarray(10));
    expect(r3.status).to.equal(undefined);
    expect(r3.payload.length).to.equal(0);

    const message = 'container not created: not found';
    const error = Buffer.concat([hex('00 00 00 26 00 00 00 0d 02 00 0a 24 08 05 12 20'), Buffer.from(message)]);
    const r4 = Response.decode(error.subarray(10));
    expect(r4.status).to.deep.include({ code: 5, message });
    expect(r4.payload.length).to.equal(0);
  });
});

describe('shim/ttrpc codec: FrameDecoder', () => {
  const frames = [
    encodeFrame({ streamId: 1, type: 2, flags: 0, data: Buffer.from('hello') }),
    encodeFrame({ streamId: 3, type: 2, flags: 0, data: Buffer.alloc(0) }),
    encodeFrame({ streamId: 5, type: 2, flags: 0, data: Buffer.alloc(20_000, 7) }),
  ];
  const all = Buffer.concat(frames);

  it('reassembles frames fed one byte at a time', () => {
    const decoder = new FrameDecoder();
    const out = [];
    for (const byte of all) out.push(...decoder.push(Buffer.from([byte])));
    expect(out.map((f) => (f.kind === 'frame' ? [f.frame.streamId, f.frame.data.length] : 'x'))).to.deep.equal([
      [1, 5],
      [3, 0],
      [5, 20_000],
    ]);
    expect(decoder.buffered).to.equal(0);
  });

  it('splits several frames delivered in one chunk', () => {
    const out = new FrameDecoder().push(all);
    expect(out).to.have.length(3);
    const first = out[0]!;
    expect(first.kind === 'frame' && Buffer.from(first.frame.data).toString()).to.equal('hello');
  });

  it('drops an oversized frame without buffering it and stays in sync for the next one', () => {
    const decoder = new FrameDecoder();
    const size = MAX_MESSAGE_SIZE + 1;
    const header = Buffer.alloc(10);
    header.writeUInt32BE(size, 0);
    header.writeUInt32BE(9, 4);
    header[8] = 2;
    const first = decoder.push(header);
    expect(first).to.deep.equal([{ kind: 'oversized', header: { length: size, streamId: 9, type: 2, flags: 0 } }]);
    // Feed the dropped data in 1 MiB chunks: nothing is kept.
    let left = size;
    while (left > 0) {
      const n = Math.min(left, 1 << 20);
      expect(decoder.push(Buffer.alloc(n))).to.deep.equal([]);
      expect(decoder.buffered).to.equal(0);
      left -= n;
    }
    const next = decoder.push(frames[0]!);
    expect(next).to.have.length(1);
    expect(next[0]!.kind === 'frame' && next[0]!.frame.streamId).to.equal(1);
  });

  it('reports an oversized header claiming 4 GiB without allocating it', () => {
    const decoder = new FrameDecoder();
    const out = decoder.push(hex('ff ff ff ff 00 00 00 0b 02 00 01 02 03'));
    expect(out).to.have.length(1);
    expect(out[0]!.kind).to.equal('oversized');
    expect(decoder.buffered).to.equal(0);
  });

  it('refuses to encode data over 4 MiB', () => {
    let thrown: unknown;
    try {
      encodeFrame({ streamId: 1, type: 1, flags: 0, data: Buffer.alloc(MAX_MESSAGE_SIZE + 1) });
    } catch (err) {
      thrown = err;
    }
    expect(hasCode(thrown, 'ERR_TTRPC_MESSAGE_TOO_LARGE')).to.equal(true);
    expect(encodeFrame({ streamId: 1, type: 1, flags: 0, data: Buffer.alloc(MAX_MESSAGE_SIZE) }).length).to.equal(MAX_MESSAGE_SIZE + 10);
  });
});
