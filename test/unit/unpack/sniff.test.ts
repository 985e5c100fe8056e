import { expect } from 'chai';
import { sniffCompression } from '../../../lib/unpack/decompress.js';

const le32 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n, 0);
  return b;
};

describe('unpack: sniffCompression', () => {
  it('reads a zstd stream that starts with a skippable frame (0x184D2A50–0x184D2A5F) as zstd', () => {
    for (let n = 0; n < 16; n++) expect(sniffCompression(le32(0x184d2a50 + n)), `0x${(0x184d2a50 + n).toString(16)}`).to.equal('zstd');
    expect(sniffCompression(le32(0xfd2fb528))).to.equal('zstd');
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).to.equal('gzip');
    // Neighbours of the skippable range, and a tar's first bytes (a file name), are not zstd.
    for (const magic of [0x184d2a4f, 0x184d2a60, 0x184d2b50]) expect(sniffCompression(le32(magic))).to.equal('none');
    expect(sniffCompression(Buffer.from('etc/passwd\0\0'))).to.equal('none');
    expect(sniffCompression(Buffer.from([0x50, 0x2a]))).to.equal('none');
  });
});
