// `docker run hello-world`, through containerkit's Engine, printing each step of the flow as it happens:
// pull (registry → content store, every byte verified), unpack (layers → snapshots), spec (an OCI runtime spec from
// the image config), shim (one containerd-shim-runc-v2 per container), runc (creates the container, then exits),
// exit (the real exit code, kept by the shim).
//
//   npm run demo                               offline: a busybox image built here, served by a local registry
//   npx tsx examples/hello-world.ts hello-world    with network access: the real image from Docker Hub
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from 'containerkit';
import { RegistryClient } from 'containerkit/registry';
import { OCIRuntime } from 'containerkit/runtime';
import { pushBusyboxImage } from './busybox-image.js';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';

const step = (what: string, text: string): void => console.log(`\x1b[1m[${what}]\x1b[0m ${text}`);

const GREETING = [
  'Hello from containerkit!',
  'This message shows that your installation appears to be working correctly.',
  '',
  'To generate this message, containerkit took the following steps:',
  ' 1. The Engine (in your Node process) pulled the image from the registry, verifying every byte.',
  ' 2. It unpacked the layers into snapshots and wrote an OCI runtime spec from the image config.',
  ' 3. A containerd-shim-runc-v2 had runc create the container; runc exited, the shim stayed.',
  ' 4. The container ran this script; its output went to a log the shim feeds, its exit code to the shim.',
];

/** The pid and command line of the shim serving container `id`, from /proc (the shim daemonized: its parent is 1). */
async function findShim(id: string): Promise<{ pid: number; ppid: number; argv: string[] } | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean);
    if (!argv[0]?.endsWith('containerd-shim-runc-v2') || argv[argv.indexOf('-id') + 1] !== id) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    return { pid: Number(entry), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), argv };
  }
  return undefined;
}

async function main(): Promise<void> {
  const requested = process.argv[2];
  const root = await mkdtemp(join(tmpdir(), 'containerkit-hello-'));
  const registryClient = new RegistryClient();
  let local: LocalRegistry | undefined;
  let engine: Engine | undefined;
  try {
    let image = requested;
    if (image === undefined) {
      local = await startLocalRegistry();
      image = `${local.host}/library/hello-world:latest`;
      const script = `printf '%s\\n' ${GREETING.map((l) => `'${l}'`).join(' ')}; sleep 0.3`;
      await pushBusyboxImage(image, registryClient, { Cmd: ['sh', '-c', script] });
      step('setup', `offline: built ${image} from busybox-static and pushed it to a local docker-registry`);
    }

    engine = await Engine.open({ root, registry: registryClient });
    step('engine', `daemonless Engine on ${root} (images, snapshots, containers and the shims' events socket live there)`);

    const pulled = await engine.pull(image, {
      onProgress: (e) => {
        if (e.status === 'done') step('pull', `${e.descriptor.mediaType.split('.').pop()} ${e.descriptor.digest.slice(0, 19)}… ${e.descriptor.size} bytes, digest verified`);
      },
    });
    step('unpack', `${pulled.name}: layers applied into snapshots, top chain ID ${pulled.chainId?.slice(0, 19) ?? '(no layers)'}…`);

    const container = await engine.create(pulled.name, { name: 'hello' });
    const spec = JSON.parse(await readFile(join(root, 'containers', container.id, 'spec.json'), 'utf8')) as {
      process: { args: string[] };
      mounts: unknown[];
      linux: { namespaces: Array<{ type: string }> };
    };
    step('spec', `container ${container.name} (${container.id.slice(0, 12)}): runs ${JSON.stringify(spec.process.args[0])}, ${spec.mounts.length} mounts, namespaces ${spec.linux.namespaces.map((n) => n.type).join(',')}`);

    await engine.start(container.id);
    const shim = await findShim(container.id);
    if (shim !== undefined) step('shim', `${shim.argv[0]} pid ${shim.pid}, parent ${shim.ppid} (it daemonized, so it outlives this process)`);
    else step('shim', 'the shim had already reported the exit and gone');
    const runc = new OCIRuntime({ root: join(root, 'runc', 'containerkit') });
    const state = await runc.state(container.id).catch(() => undefined);
    step('runc', `runc created the container and exited; its state says ${state?.status ?? 'stopped and deleted'}${state ? `, init pid ${state.pid}` : ''}`);

    const { exitCode } = await engine.wait(container.id);
    console.log('');
    for await (const entry of engine.logs(container.id)) process.stdout.write(`    ${entry.line}`);
    console.log('');
    step('exit', `exit code ${exitCode}, reported by the shim after runc had gone`);
    await engine.remove(container.id);
    await engine.removeImage(pulled.name);
  } finally {
    await engine?.close();
    registryClient.close();
    await local?.stop();
    await rm(root, { recursive: true, force: true });
  }
  step('done', 'nothing left behind: container, shim, snapshots, image and temp dirs removed');
}

await main();
