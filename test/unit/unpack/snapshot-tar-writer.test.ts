// The PAX writer diff uses: read back by containerkit's own parser and by GNU tar.

import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { type TarEntry, TarParser } from '../../../lib/unpack/tar-parser.js';
import { tarEnd, tarHeader, tarPadding } from '../../../lib/unpack/tar-writer.js';

const CAPABILITY = Buffer.from('0100000200040000000000000000000000000000', 'hex');

function parse(tar: Buffer): Array<{ entry: TarEntry; data: string }> {
  const parser = new TarParser();
  const out: Array<{ entry: TarEntry; data: string }> = [];
  for (const event of parser.push(tar)) {
    if (event.kind === 'entry') out.push({ entry: event.entry, data: '' });
    else if (event.kind === 'data') out[out.length - 1]!.data += event.data.toString();
  }
  parser.finish();
  return out;
}

describe('unpack: diff tar writer', () => {
  const longName = `dir/${'n'.repeat(150)}`;
  const longTarget = `/${'t'.repeat(180)}`;
  const tar = Buffer.concat([
    tarHeader({ name: 'dir', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000 }),
    tarHeader({
      name: longName,
      type: 'file',
      mode: 0o4755,
      uid: 1000,
      gid: 3_000_000,
      mtime: 1_700_000_001,
      size: 5,
      xattrs: new Map([['security.capability', CAPABILITY]]),
    }),
    Buffer.from('hello'),
    tarPadding(5),
    tarHeader({ name: 'dir/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_002, linkname: longTarget }),
    tarHeader({ name: 'dir/hard', type: 'hardlink', mode: 0o4755, uid: 1000, gid: 0, mtime: 1_700_000_001, linkname: longName }),
    tarHeader({ name: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 1_700_000_003, devmajor: 1, devminor: 3 }),
    tarHeader({ name: 'dir/.wh..wh..opq', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, size: 0 }),
    tarEnd(),
  ]);

  it('writes names, link targets, big ids and binary xattrs that read back exactly', () => {
    const entries = parse(tar);
    expect(entries.map((e) => [e.entry.path, e.entry.type])).to.deep.equal([
      ['dir/', 'directory'],
      [longName, 'file'],
      ['dir/link', 'symlink'],
      ['dir/hard', 'link'],
      ['dev/null', 'char'],
      ['dir/.wh..wh..opq', 'file'],
    ]);
    const file = entries[1]!;
    expect(file.data).to.equal('hello');
    expect(file.entry).to.include({ mode: 0o4755, uid: 1000, gid: 3_000_000, mtime: 1_700_000_001, size: 5 });
    expect(file.entry.xattrs.get('security.capability')).to.deep.equal(CAPABILITY);
    expect(entries[2]!.entry.linkname).to.equal(longTarget);
    expect(entries[3]!.entry.linkname).to.equal(longName);
    expect(entries[4]!.entry).to.include({ devmajor: 1, devminor: 3 });
    expect(tar.length % 512).to.equal(0);
  });

  it('is a tar GNU tar lists the same way', () => {
    const listed = execFileSync('tar', ['-t'], { input: tar }).toString().trim().split('\n');
    expect(listed).to.deep.equal(['dir/', longName, 'dir/link', 'dir/hard', 'dev/null', 'dir/.wh..wh..opq']);
  });

  it('refuses NUL in names', () => {
    expect(() => tarHeader({ name: 'a\0b', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 })).to.throw(/NUL/);
  });
});
