import { buffer } from 'node:stream/consumers';
import { expect } from 'chai';
import { pack } from 'tar-stream';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { parseNumeric } from '../../../lib/unpack/tar-header.js';
import { type TarEntry, TarParser } from '../../../lib/unpack/tar-parser.js';
import { rawTar } from '../../fixtures/hostile-layers.js';

/** Parses `tar` fed in chunks of `chunk` bytes; returns entries with their data. */
function parse(tar: Buffer, chunk = tar.length): Array<{ entry: TarEntry; data: string }> {
  const parser = new TarParser();
  const out: Array<{ entry: TarEntry; data: string }> = [];
  for (let i = 0; i < tar.length; i += chunk) {
    for (const event of parser.push(tar.subarray(i, i + chunk))) {
      if (event.kind === 'entry') out.push({ entry: event.entry, data: '' });
      else if (event.kind === 'data') out[out.length - 1]!.data += event.data.toString('latin1');
    }
  }
  parser.finish();
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ContainerkitError ? err.code : 'not a ContainerkitError';
  }
}

describe('unpack: TarParser', () => {
  it('reads what tar-stream writes, whatever the chunking, with PAX names, links and xattrs', async () => {
    const tarball = pack();
    const done = buffer(tarball);
    const longName = `${'d'.repeat(150)}/${'f'.repeat(120)}`;
    tarball.entry({ name: 'dir', type: 'directory', mode: 0o755 });
    tarball.entry({ name: 'dir/file', mode: 0o4755, uid: 1000, gid: 1001, mtime: new Date(1_600_000_000_000) }, 'hello\n');
    tarball.entry({ name: longName, size: 3 }, 'abc');
    tarball.entry({ name: 'link', type: 'symlink', linkname: '/bin/busybox' });
    tarball.entry({ name: 'hard', type: 'link', linkname: 'dir/file' });
    tarball.entry({ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 });
    tarball.entry({ name: 'cap', pax: { 'SCHILY.xattr.security.capability': '\x01\x00\x00\x02' } }, '');
    tarball.finalize();
    const tar = await done;
    for (const chunk of [tar.length, 512, 100, 1]) {
      const entries = parse(tar, chunk);
      expect(
        entries.map((e) => [e.entry.path, e.entry.type]),
        `chunk ${chunk}`,
      ).to.deep.equal([
        ['dir', 'directory'],
        ['dir/file', 'file'],
        [longName, 'file'],
        ['link', 'symlink'],
        ['hard', 'link'],
        ['null', 'char'],
        ['cap', 'file'],
      ]);
      expect(entries[1]).to.deep.include({ data: 'hello\n' });
      expect(entries[1]!.entry).to.include({ mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_600_000_000, size: 6 });
      expect(entries[2]!.data).to.equal('abc');
      expect(entries[3]!.entry.linkname).to.equal('/bin/busybox');
      expect(entries[5]!.entry).to.include({ devmajor: 1, devminor: 3 });
      expect(entries[6]!.entry.xattrs.get('security.capability')).to.deep.equal(Buffer.from([1, 0, 0, 2]));
    }
  });

  it('reads header-only types as carrying no data, whatever their size field says (as Go does)', () => {
    const entries = parse(
      rawTar([
        { name: 'd', type: '5', size: 512 },
        { name: 'next', data: 'n' },
      ]),
    );
    expect(entries.map((e) => e.entry.path)).to.deep.equal(['d', 'next']);
  });

  it('refuses malformed archives with typed codes', () => {
    expect(codeOf(() => parse(rawTar([{ name: 'a', badChecksum: true }])))).to.equal('ERR_INVALID_TAR');
    expect(codeOf(() => parse(rawTar([{ name: 'a' }], { trailer: Buffer.from([0, 0, 1]) })))).to.equal('ERR_INVALID_TAR');
    expect(codeOf(() => parse(rawTar([{ name: 'a' }], { end: false })))).to.equal('ERR_LAYER_TRUNCATED');
    expect(codeOf(() => parse(Buffer.alloc(0)))).to.equal('ERR_LAYER_TRUNCATED');
    expect(codeOf(() => parse(rawTar([{ name: 'a', type: 'V' }])))).to.equal('ERR_UNSUPPORTED_TAR_ENTRY');
    expect(codeOf(() => parse(rawTar([{ name: 'a', pax: { size: '-1' } }])))).to.equal('ERR_INVALID_TAR');
    expect(codeOf(() => parse(rawTar([{ name: 'a', pax: { path: 'x\0y' } }])))).to.equal('ERR_INVALID_TAR');
    // Trailing zeros after the marker are record padding.
    expect(parse(rawTar([{ name: 'a' }], { trailer: Buffer.alloc(9216) }))).to.have.length(1);
  });

  it('parses numeric fields strictly: octal with spaces and NULs, base-256, nothing else', () => {
    const field = (text: string | Buffer): Buffer => {
      const block = Buffer.alloc(512);
      (typeof text === 'string' ? Buffer.from(text, 'latin1') : text).copy(block, 124);
      return block;
    };
    expect(parseNumeric(field('00000000017\0'), 124, 12, 'size', 0)).to.equal(15);
    expect(parseNumeric(field('     17 \0\0\0\0'), 124, 12, 'size', 0)).to.equal(15);
    expect(parseNumeric(field(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0])), 124, 12, 'size', 0)).to.equal(65536);
    expect(parseNumeric(field(Buffer.alloc(12, 0xff)), 124, 12, 'mtime', 0, true)).to.equal(-1);
    for (const bad of ['0000000012x9', '00000000009\0', '-0000000001\0', '0000 0000001']) {
      expect(
        codeOf(() => parseNumeric(field(bad), 124, 12, 'size', 0)),
        bad,
      ).to.equal('ERR_INVALID_TAR');
    }
    expect(codeOf(() => parseNumeric(field(Buffer.alloc(12, 0xff)), 124, 12, 'size', 0))).to.equal('ERR_INVALID_TAR');
  });
});
