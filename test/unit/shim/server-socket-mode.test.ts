import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { TtrpcClient, TtrpcServer } from '../../../lib/shim/index.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const run = promisify(execFile);
const CHILD = join(import.meta.dirname, '..', '..', 'fixtures', 'ttrpc-listen-child.ts');

// What a connect as `nobody` (uid 65534) gets: 'connected' or the errno.
async function connectAsNobody(path: string): Promise<string> {
  const script = `require('net').connect(${JSON.stringify(path)}).on('connect', function () { console.log('connected'); this.destroy(); }).on('error', (e) => console.log(e.code))`;
  const { stdout } = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script]);
  return stdout.trim();
}

describe('shim/ttrpc server: the socket file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('ttrpc-mode');
    await chmod(dir, 0o755); // others may reach the socket: only its own mode keeps them out
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('is bound in a private 0700 directory, gets its mode there, and only then appears at the path (strace)', async () => {
    const path = join(dir, 'events.sock');
    const trace = join(dir, 'trace');
    await run('strace', [
      '-f',
      '-qq',
      '-o',
      trace,
      '-e',
      'trace=mkdir,mkdirat,bind,chmod,fchmodat,?fchmodat2,link,linkat,rename,renameat,renameat2',
      process.execPath,
      '--import',
      'tsx',
      CHILD,
      path,
    ]);
    const lines = (await readFile(trace, 'utf8')).split('\n').filter((l) => / = 0$/.test(l));
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const quoted = (s: string): string => JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const binds = lines.filter((l) => /bind\(\d+, \{sa_family=AF_UNIX/.test(l));
    expect(binds, lines.join('\n')).to.have.length(1);
    const bound = /sun_path="([^"]+)"/.exec(binds[0]!)![1]!;
    expect(bound).to.not.equal(path);
    const privateDir = bound.slice(0, bound.lastIndexOf('/'));
    expect(privateDir.startsWith(`${dir}/.`)).to.equal(true);
    const made = at(new RegExp(`mkdir(at)?\\((AT_FDCWD, )?${quoted(privateDir)}, 0700\\)`));
    const bindAt = lines.indexOf(binds[0]!);
    const chmodAt = at(new RegExp(`(f?chmod(at2?)?)\\((AT_FDCWD, )?${quoted(bound)}, 0600`));
    const linkAt = at(new RegExp(`link(at)?\\((AT_FDCWD, )?${quoted(bound)}, (AT_FDCWD, )?${quoted(path)}`));
    expect(
      [made, bindAt, chmodAt, linkAt].every((i) => i >= 0),
      lines.join('\n'),
    ).to.equal(true);
    expect(made < bindAt && bindAt < chmodAt && chmodAt < linkAt, lines.join('\n')).to.equal(true);
    // Nothing else ever named the path: no bind, chmod or rename onto it.
    expect(
      lines.filter((l) => l.includes(JSON.stringify(path)) && !/link(at)?\(/.test(l)),
      lines.join('\n'),
    ).to.deep.equal([]);
  });

  it('refuses other users even under a umask of 0, and leaves no private directory behind', async () => {
    const path = join(dir, 'events.sock');
    const server = new TtrpcServer();
    const umask = process.umask(0);
    try {
      await server.listen(path);
    } finally {
      process.umask(umask);
    }
    try {
      expect(((await lstat(path)).mode & 0o777).toString(8)).to.equal('600');
      expect(await connectAsNobody(path)).to.equal('EACCES');
      expect(await readdir(dir)).to.deep.equal(['events.sock']);
      const client = await TtrpcClient.open(path);
      expect(hasCode(await rejection(client.call('x', 'y', new Uint8Array(0))), 'ERR_TTRPC_UNIMPLEMENTED')).to.equal(true);
      await client.close();
    } finally {
      await server.close();
    }
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('honours a wider mode when asked', async () => {
    const path = join(dir, 'open.sock');
    const server = new TtrpcServer();
    await server.listen(path, { mode: 0o666 });
    try {
      expect(((await lstat(path)).mode & 0o777).toString(8)).to.equal('666');
      expect(await connectAsNobody(path)).to.equal('connected');
    } finally {
      await server.close();
    }
  });

  it('refuses a path whose private name would be too long for a unix socket, leaving nothing behind', async () => {
    const deep = join(dir, 'd'.repeat(104 - dir.length - 3));
    await mkdir(deep);
    const path = join(deep, 'a'); // 104 bytes: fits, but `<deep>/.XXXXXX/s` would not
    expect(Buffer.byteLength(path)).to.equal(104);
    const err = await rejection(new TtrpcServer().listen(path));
    expect(hasCode(err, 'ERR_INVALID_ARGUMENT'), String(err)).to.equal(true);
    expect(await readdir(deep)).to.deep.equal([]);
  });
});
