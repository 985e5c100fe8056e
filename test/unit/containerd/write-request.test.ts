import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { encodedWriteRequest, encodeWriteRequest } from '../../../lib/containerd/write-request.js';
import { WriteAction, WriteContentRequest } from '../../../lib/gen/containerd/services/content/v1/content.js';

function request(fields: Partial<WriteContentRequest>): WriteContentRequest {
  return { action: WriteAction.WRITE, ref: 'layer-sha256:abc', total: 0n, expected: '', offset: 0n, data: Buffer.alloc(0), labels: {}, ...fields };
}

const wire = (req: WriteContentRequest): Buffer => Buffer.from(encodeWriteRequest(req));

describe('containerd: Content.Write request encoding', () => {
  for (const size of [0, 1, 127, 128, 16_383, 16_384, 256 * 1024]) {
    it(`decodes to the same request as the generated encoder's, for ${size} bytes of data`, () => {
      const req = request({ offset: 123_456_789_012n, total: 5_000_000_000n, expected: 'sha256:def', data: randomBytes(size), labels: { a: 'b' } });
      const ours = WriteContentRequest.decode(wire(encodedWriteRequest(req)));
      expect(ours).to.deep.equal(WriteContentRequest.decode(WriteContentRequest.encode(req).finish()));
      expect(Buffer.from(ours.data).equals(req.data)).to.equal(true);
    });
  }

  it('copies the data, so the caller may reuse its buffer at once', () => {
    const data = Buffer.alloc(1000, 1);
    const encoded = encodedWriteRequest(request({ data }));
    data.fill(2);
    expect(WriteContentRequest.decode(wire(encoded)).data.every((b) => b === 1)).to.equal(true);
    expect(encoded.data.every((b) => b === 1)).to.equal(true);
  });

  it('encodes into the given buffer when it fits, and into a new one when it does not', () => {
    const into = Buffer.alloc(4096);
    const fits = encodedWriteRequest(request({ data: randomBytes(1000) }), into);
    expect(encodeWriteRequest(fits).buffer).to.equal(into.buffer);
    const tooLong = request({ ref: 'r'.repeat(5000), data: randomBytes(1000) });
    const elsewhere = encodedWriteRequest(tooLong, into);
    expect(encodeWriteRequest(elsewhere).buffer).to.not.equal(into.buffer);
    expect(WriteContentRequest.decode(wire(elsewhere)).ref).to.equal(tooLong.ref);
  });

  it('encodes requests it did not make (STAT, COMMIT) with the generated encoder', () => {
    const stat = request({ action: WriteAction.STAT, total: 10n, expected: 'sha256:x' });
    expect(wire(stat).equals(Buffer.from(WriteContentRequest.encode(stat).finish()))).to.equal(true);
  });
});
