// The CLI as a process (test/fixtures/cli-bin.ts is bin/containerkit.js over the sources): how it ends on signals
// and on a root it cannot create.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { type FileHandle, open, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { captureCli } from '../../fixtures/cli.js';
import { seedCliStore } from '../../fixtures/cli-store.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCli(argv: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/cli-bin.ts', ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, stderr: () => err, exited };
}

/** Waits until `check` holds; the test's timeout bounds the wait. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(20);
}

describe('cli: the process', function () {
  this.timeout(60_000);
  let dir: string;
  let root: string;
  let archive: Buffer;
  const running: ChildProcess[] = [];
  const handles: FileHandle[] = [];

  before(async () => {
    dir = await makeTempDir('cli-process');
    root = join(dir, 'root');
    const [image] = await seedCliStore(root, 1);
    const save = await captureCli(['--root', root, 'save', '-o', join(dir, 'image.tar'), image!]);
    expect(save.code, save.err).to.equal(0);
    archive = await readFile(join(dir, 'image.tar'));
  });
  afterEach(async () => {
    for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const handle of handles.splice(0)) await handle.close();
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('a root under /proc fails at once with a coded error (no endless mkdir)', async () => {
    const cli = startCli(['--root', '/proc/1/containerkit-test', 'load', '-i', '/dev/null']);
    running.push(cli.child);
    expect(await cli.exited).to.deep.equal({ code: 1, signal: null });
    expect(cli.stderr()).to.equal('containerkit: cannot create directory /proc/1/containerkit-test: no such file or directory (ERR_NOT_FOUND)\n');
  });

  it('the first SIGTERM cancels a load cleanly; a second one exits at once', async () => {
    // A FIFO the test keeps open for writing: the CLI's read of it never ends by itself.
    const fifo = join(dir, 'archive.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).to.equal(0);
    const writer = await open(fifo, 'r+');
    handles.push(writer);
    const loadRoot = join(dir, 'load-root');
    const cli = startCli(['--root', loadRoot, 'load', '-i', fifo]);
    running.push(cli.child);
    // Part of the archive, cut inside the layer: the CLI is ingesting a blob when the signal comes.
    await writer.write(archive.subarray(0, Math.floor(archive.length * 0.6)));
    const ingest = join(loadRoot, 'content', 'ingest');
    await until(async () => (await readdir(ingest).catch(() => [])).length > 0);

    cli.child.kill('SIGTERM');
    await until(() => cli.stderr().includes('\n'));
    expect(cli.stderr()).to.equal('containerkit: cancelled\n');
    expect(await readdir(ingest)).to.deep.equal([]);
    // Still waiting on the FIFO read, which no abort can interrupt: the second signal ends it.
    cli.child.kill('SIGTERM');
    expect(await cli.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(cli.stderr()).to.equal('containerkit: cancelled\ncontainerkit: SIGTERM again, exiting now\n');
  });
});
