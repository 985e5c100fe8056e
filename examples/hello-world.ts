// `docker run hello-world`, through containerkit's Engine, printing each step of the flow as it happens:
// pull (registry → content store, every byte verified), unpack (layers → snapshots), spec (an OCI runtime spec from
// the image config), shim (one containerd-shim-runc-v2 per container), runc (creates the container, then exits),
// exit (the real exit code, kept by the shim).
//
//   npm run demo                               offline: a busybox image built here, served by a local registry
//   npx tsx examples/hello-world.ts hello-world    with network access: the real image from Docker Hub
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from 'containerkit';
import { RegistryClient } from 'containerkit/registry';
import { OCIRuntime } from 'containerkit/runtime';
import { pushBusyboxImage } from './busybox-image.js';
import { type LocalRegistry, startLocalRegistry } from './local-registry.js';
import { findShim, processTable } from './proc-tree.js';

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
        if (e.status !== 'done') return;
        const kind = /manifest|index/.test(e.descriptor.mediaType) ? 'manifest' : /config/.test(e.descriptor.mediaType) ? 'config' : 'layer';
        step('pull', `${kind} ${e.descriptor.digest.slice(0, 19)}… ${e.descriptor.size} bytes, digest verified`);
      },
    });
    step('unpack', `${pulled.name}: layers applied into snapshots, top chain ID ${pulled.chainId?.slice(0, 19) ?? '(no layers)'}…`);

    const container = await engine.create(pulled.name, { name: 'hello' });
    const info = await engine.inspect(container.id);
    const args = [info.Path, ...info.Args].map((a) => (a.length > 24 ? `${a.slice(0, 21)}…` : a)).join(' ');
    step(
      'spec',
      `container ${container.name} (${container.id.slice(0, 12)}): an OCI runtime spec from the image config runs \`${args}\` as ${info.Config.User || 'root'}, network ${info.HostConfig.NetworkMode} (its own namespace)`,
    );

    await engine.start(container.id);
    const shim = findShim(await processTable(), container.id);
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
    if (findShim(await processTable(), container.id) !== undefined) throw new Error(`the shim of ${container.id} is still running`);
  } finally {
    await engine?.close();
    registryClient.close();
    await local?.stop();
    await rm(root, { recursive: true, force: true });
  }
  step('done', 'nothing left behind: container, shim, snapshots, image and temp dirs removed');
}

await main();
