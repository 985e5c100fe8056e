/**
 * Containers that outlive their engine, the way containerd's shims make them: an "engine" process starts a
 * container through ShimManager (containerd-shim-runc-v2 + runc, no containerd daemon) and is then SIGKILLed. The
 * container keeps running and logging (through a small logger the shim runs, not through Node). A new ShimManager on the same state directory reattaches, stops it and
 * reads its exit code.
 *
 * Needs root, runc, containerd-shim-runc-v2 and Debian's busybox-static:
 *
 *     sudo npx tsx examples/restart-survival.ts
 *
 * Everything lives in a temp dir, removed at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ShimManager } from 'containerkit/shim';

const BUSYBOX = '/bin/busybox';
const ID = 'ticker';
const NAMESPACE = 'restart-survival';

/** A busybox bundle named after the container id: rootfs from busybox-static, config.json from `runc spec`. */
async function makeBundle(bundle: string): Promise<void> {
  const rootfs = join(bundle, 'rootfs');
  for (const dir of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']) await mkdir(join(rootfs, dir), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'echo', 'sleep', 'date']) await symlink('busybox', join(rootfs, 'bin', applet));
  await promisify(execFile)('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
  spec.root = { path: rootfs, readonly: false };
  spec.process.terminal = false;
  spec.process.args = ['sh', '-c', 'i=0; while true; do echo "tick $i"; [ $((i % 5)) = 0 ] && echo "warning $i" >&2; i=$((i+1)); sleep 0.2; done'];
  // runc spec's example rlimits may exceed this shell's hard limits; the container does not need them.
  spec.process.rlimits = [];
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
}

/**
 * The engine: open the root, start the container with its output going to containerkit's logger (a small C program
 * the shim runs: JSON lines, stdout and stderr apart, one timestamp per line), then idle.
 */
async function engine(stateDir: string, bundle: string): Promise<void> {
  const manager = await ShimManager.open({ stateDir, namespace: NAMESPACE });
  const container = await manager.start(ID, bundle, { stdio: { stdout: 'log' } });
  await container.start();
  process.stdout.write(`${JSON.stringify({ shimPid: container.shimPid, logPath: container.logPath })}\n`);
  setInterval(() => undefined, 1 << 30);
}

const lineCount = async (path: string): Promise<number> => (await readFile(path, 'utf8')).split('\n').filter(Boolean).length;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'restart-survival-'));
  const stateDir = join(work, 'state');
  const bundle = join(work, ID);
  let manager: ShimManager | undefined;
  try {
    await makeBundle(bundle);

    // 1. The engine, a child process of this one, starts the container.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'engine', stateDir, bundle], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ shimPid: number; logPath: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      child.once('exit', (code) => reject(new Error(`the engine exited with ${code} before starting the container`)));
    });
    console.log(`engine pid ${child.pid} started "${ID}" under shim pid ${started.shimPid}`);

    // 2. Kill the engine: nothing of it survives, the shim and the container do.
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    const before = await lineCount(started.logPath);
    console.log(`engine killed; log has ${before} lines`);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await lineCount(started.logPath);
    console.log(`1.5 s later, with no engine running: ${after} lines (${after > before ? 'still growing' : 'NOT growing'})`);

    // 3. A new manager on the same root reattaches.
    manager = await ShimManager.open({ stateDir, namespace: NAMESPACE });
    console.log(`reattached: ${manager.reattachReport.reattached.join(', ')}`);
    const container = manager.get(ID)!;
    console.log(`state: ${(await container.status()).status}, shim pid ${container.shimPid}`);

    // 4. Stop it and read the exit code, then tear everything down (shim, runc state, FIFOs, records).
    await container.kill('SIGKILL');
    const exit = await container.wait();
    console.log(`exit code ${exit.code} at ${exit.exitedAt?.toISOString()}`);
    const lastLines = (await readFile(started.logPath, 'utf8')).trim().split('\n').slice(-3);
    console.log(`last log lines (${started.logPath}):\n  ${lastLines.join('\n  ')}`);
    await container.remove();
    // The shim exits right after `remove`; a zombie ('Z') waiting for its reaper counts as gone.
    const shimAlive = await readFile(`/proc/${container.shimPid}/stat`, 'utf8').then(
      (s) => s.slice(s.lastIndexOf(')') + 2)[0] !== 'Z',
      () => false,
    );
    console.log(`containers left: ${manager.list().length}, shim ${shimAlive ? 'still running' : 'gone'}`);
  } finally {
    await manager?.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'engine') await engine(process.argv[3]!, process.argv[4]!);
else await main();
