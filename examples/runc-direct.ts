/**
 * runc's README introduction, from Node: make a root filesystem, generate a config.json with `runc spec`, run a
 * container in the foreground and read its output and exit code, then drive one through its lifecycle.
 *
 * Needs root, runc and Debian's busybox-static (a statically linked /bin/busybox, so the rootfs needs no libc):
 *
 *     sudo npx tsx examples/runc-direct.ts
 *
 * Everything lives in a temp dir with its own runc state root, removed at the end.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Spec } from 'containerkit/oci';
import { OCIRuntime, RuncError } from 'containerkit/runtime';

const BUSYBOX = '/bin/busybox';

/** A busybox root filesystem: the binary, one symlink per applet, and the few files and dirs a container expects. */
async function makeRootfs(rootfs: string): Promise<void> {
  for (const dir of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp', 'root']) await mkdir(join(rootfs, dir), { recursive: true });
  await copyFile(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  const { stdout } = await promisify(execFile)(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a !== '' && a !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet));
  }
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
}

/** Rewrites config.json with new process args. */
async function setArgs(bundle: string, spec: Spec, ...args: string[]): Promise<void> {
  spec.process!.args = args;
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'runc-direct-'));
  const bundle = join(work, 'mycontainer');
  const runtime = new OCIRuntime({ root: join(work, 'state') });
  try {
    const version = await runtime.version();
    console.log(`${version.name} ${version.version} (runtime-spec ${version.spec})`);

    // 1. The root filesystem, then `runc spec` for a config.json to edit, as in runc's README.
    await makeRootfs(join(bundle, 'rootfs'));
    const spec = await runtime.spec(bundle);
    spec.process!.terminal = false; // stdio are pipes here, not a TTY
    spec.hostname = 'mycontainer';

    // 2. Foreground runs: output and the real exit status of the container's process.
    await setArgs(bundle, spec, 'echo', 'hello from runc');
    const hello = await runtime.run('hello', bundle);
    console.log(`echo: exit ${hello.code}, stdout ${JSON.stringify(hello.stdout)}`);

    await setArgs(bundle, spec, 'sh', '-c', 'echo "I am pid $$ on $(hostname)"; echo "to stderr" >&2; exit 3');
    const shell = await runtime.run('shell', bundle);
    console.log(`sh -c: exit ${shell.code}, stdout ${JSON.stringify(shell.stdout)}, stderr ${JSON.stringify(shell.stderr)}`);

    // 3. A failure carries runc's own message, not just an exit code.
    await setArgs(bundle, spec, 'nosuch');
    try {
      await runtime.run('broken', bundle);
    } catch (err) {
      if (!(err instanceof RuncError)) throw err;
      console.log(`runc failed (${err.code}): ${err.message}`);
    }

    // 4. The lifecycle: create, start, exec, pause/resume, kill, delete.
    await setArgs(bundle, spec, 'sleep', '3600');
    const { pid } = await runtime.create('life', bundle);
    console.log(`created "life", init pid ${pid}: ${(await runtime.state('life')).status}`);
    await runtime.start('life');
    const ps = await runtime.exec('life', { args: ['ps'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });
    console.log(`ps in "life" (exit ${ps.code}):\n${ps.stdout}`);
    await runtime.pause('life');
    console.log(`after pause: ${(await runtime.state('life')).status}`);
    await runtime.resume('life');
    const stats = await runtime.stats('life');
    console.log(`memory in use: ${stats.memory.usage.usage} bytes, processes: ${stats.pids.current}`);
    await runtime.kill('life', 'SIGKILL');
    await runtime.delete('life', { force: true });
    console.log(`containers left: ${(await runtime.list()).length}`);
  } finally {
    for (const c of await runtime.list().catch(() => [])) await runtime.delete(c.id, { force: true }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
