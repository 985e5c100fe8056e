// Where the processes of a running container really are — the tree `pstree` once showed as
// dockerd───docker-containerd───docker-containerd-shim───bash — and what happens when the engine dies.
//
//   npx tsx examples/process-tree.ts            offline (a busybox image built here, a local registry)
//
// An engine process (a child Node process with an Engine) runs `sh` detached; this process prints the real tree
// from /proc, kills the engine with SIGKILL, prints the tree again (the container is still there, its shim
// reparented), then opens a new Engine on the same root, which reattaches, stops and removes it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Engine } from 'containerkit';
import { RegistryClient } from 'containerkit/registry';
import { pushBusyboxImage } from './busybox-image.js';
import { startLocalRegistry } from './local-registry.js';
import { drawTree, findShim, processTable } from './proc-tree.js';

/** The engine process: opens an Engine on `root`, runs `sh` detached, says the id, and waits to be killed. */
async function engineProcess(root: string, image: string): Promise<void> {
  const engine = await Engine.open({ root, registry: new RegistryClient() });
  const { id } = await engine.run(image, { name: 'tree', cmd: ['sh', '-c', 'sleep 1000 & wait'], detach: true });
  console.log(id, (await engine.inspect(id)).State.Pid);
  await new Promise(() => undefined); // until SIGKILL
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'containerkit-tree-'));
  const registry = await startLocalRegistry();
  const client = new RegistryClient();
  let engine: Engine | undefined;
  try {
    const image = `${registry.host}/demo/busybox:latest`;
    await pushBusyboxImage(image, client);

    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--engine', root, image], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [id, pidText] = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value?.split(' ') ?? [];
    if (id === undefined || !/^[0-9a-f]{64}$/.test(id)) throw new Error('the engine process did not start the container');
    const initPid = Number(pidText);

    let table = await processTable();
    const shim = findShim(table, id);
    if (shim === undefined) throw new Error('no shim for the container');
    const logger = [...table.values()].find((p) => p.ppid === shim.pid && p.pid !== initPid);
    const notes = new Map<number, string>([
      [child.pid!, 'the engine (Node, an Engine): it started the shim, yet the shim is not its child'],
      [shim.pid, `one shim per container; its parent is ${shim.ppid}: it daemonized`],
      [initPid, "the container's init: pid 1 inside, a child of the shim"],
      ...(logger ? ([[logger.pid, 'the log writer the shim launched: stdout and stderr apart, stamped, no Node needed']] as const) : []),
    ]);
    console.log('While the engine runs:');
    for (const line of [...drawTree(table, child.pid!, notes), ...drawTree(table, shim.pid, notes)]) console.log(`  ${line}`);
    console.log('  runc is not in the tree: `runc create` set the container up, `runc start` ran it, and both exited.');
    console.log('  The shim is the parent runc left behind (it is a subreaper), so it reaps the container and keeps its exit status.');

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    table = await processTable();
    console.log(`\nAfter SIGKILL of the engine (pid ${child.pid}, ${table.has(child.pid!) ? 'still there?!' : 'gone'}):`);
    for (const line of drawTree(table, shim.pid, notes)) console.log(`  ${line}`);
    console.log(`  The container still runs, its shim still reparented to ${table.get(shim.pid)?.ppid}: nothing depended on the engine.`);

    engine = await Engine.open({ root, registry: client });
    console.log(`\nA new Engine on the same root reattached: running ${JSON.stringify(engine.recovery.running.map((r) => r.slice(0, 12)))}`);
    const { State } = await engine.inspect(id);
    console.log(`  inspect: ${State.Status}, pid ${State.Pid}`);
    await engine.stop(id, { timeout: 1 });
    const { exitCode } = await engine.wait(id);
    await engine.remove(id);
    const left = findShim(await processTable(), id);
    console.log(`  stopped (exit code ${exitCode}: sh as pid 1 ignores SIGTERM, so SIGKILL after 1 s) and removed; shim left: ${left ? left.pid : 'none'}`);
    if (left !== undefined) process.exitCode = 1;
  } finally {
    await engine?.close();
    client.close();
    await registry.stop();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--engine') await engineProcess(process.argv[3]!, process.argv[4]!);
else await main();
