// The docker → runc flow, replayed offline: build an image, serve it from a private registry, pull it, verify
// every byte, unpack it into snapshots, build an OCI runtime spec from its config and run it through a shim and runc.
//
//   npx tsx examples/docker-flow.ts      (Debian, as root; `npm ci` first)
//
// Each step says which containerkit part plays it: the registry client, the image store, the unpacker and its overlay
// snapshotter, the spec builder, and the shim manager, which runs containerd's own shim (and through it, runc).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, ImageStore } from 'containerkit/images';
import { familiarString, normalizeReference } from 'containerkit/oci';
import { RegistryClient } from 'containerkit/registry';
import { generateSpec, withHostname, withImageConfig } from 'containerkit/runtime';
import { ShimManager } from 'containerkit/shim';
import { OverlaySnapshotter } from 'containerkit/unpack';
// Offline: the example starts its own docker-registry on a free 127.0.0.1 port.
import { busyboxRoot } from './busybox-image.js';
import { startLocalRegistry } from './local-registry.js';

const step = (who: string, what: string): void => console.log(`\n\x1b[1m[${who}]\x1b[0m ${what}`);
const detail = (text: string): void => console.log(`    ${text}`);

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'containerkit-demo-'));
  const registry = await startLocalRegistry();
  let shims: ShimManager | undefined;
  const client = new RegistryClient(); // loopback registries speak plain HTTP, as with dockerd
  const id = `demo-${process.pid}`;
  try {
    step('docker build', 'a directory holding busybox-static becomes an image in an OCI layout, offline (containerkit/images buildImage)');
    const ref = normalizeReference(`${registry.host}/demo/busybox`);
    await busyboxRoot(join(work, 'rootfs'));
    const built = await ImageStore.open(join(work, 'build'), { registry: client });
    const image = await buildImage(built, ref.toString(), {
      layers: [{ directory: join(work, 'rootfs'), comment: 'busybox-static and its applets' }],
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    });
    detail(`manifest ${image.manifestDescriptor.digest}, ${image.layers.length} layer, diff_id ${image.diffIds[0]!.slice(0, 19)}…`);

    step('docker push', `to a private docker-registry at ${registry.url}, children first (containerkit/registry)`);
    const pushed = await built.push(ref.toString());
    detail(`pushed ${familiarString(ref)} → ${pushed.digest}`);

    step('docker pull', 'resolve, then manifest, config and layers into an ImageStore (an OCI image layout) (containerkit/images)');
    const store = await ImageStore.open(join(work, 'content'), { registry: client });
    const pulled = await store.pull(ref.toString(), {
      onProgress: (e) => {
        if (e.status === 'done') detail(`${e.descriptor.digest.slice(0, 19)}… ${e.descriptor.size} bytes: digest and size verified while streaming`);
      },
    });
    const { config } = await store.get(pulled.name);
    detail(`${pulled.name} → ${pulled.target.digest}; config: ${config.os}/${config.architecture}, Cmd ${JSON.stringify(config.config?.Cmd)}`);

    step('containerd unpack', 'each layer into a committed overlay snapshot named by its chain ID, then a writable one on top (containerkit/unpack)');
    const snapshotter = await OverlaySnapshotter.open(join(work, 'snapshots'));
    const unpacked = await store.unpack(pulled.name, snapshotter); // blobs read through the content store
    const rootfs = await snapshotter.prepare(id, unpacked.chainId);
    detail(`${unpacked.layers.length} layer(s) unpacked, top chain ID ${unpacked.chainId?.slice(0, 19) ?? '(none)'}…; rootfs: ${rootfs[0]!.type} mount`);

    step('containerd → spec', 'an OCI runtime spec from the image config (containerkit/runtime spec builder)');
    const bundle = join(work, 'bundles', id); // the shim names the container after its bundle dir
    await mkdir(bundle, { recursive: true });
    const script = 'echo "hello from a container: $(hostname), pid $$, uid $(id -u)"; echo "rootfs: $(ls / | tr "\\n" " ")"; exit 3';
    const spec = await generateSpec([withImageConfig(config, { args: ['sh', '-c', script] }), withHostname('demo')], { id });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    detail(`${spec.mounts?.length} mounts, ${spec.process?.capabilities?.bounding?.length} capabilities, seccomp ${spec.linux?.seccomp ? 'on' : 'off'}`);

    step(
      'containerd-shim → runc',
      'a containerd-shim-runc-v2 per container mounts the rootfs and runs runc create; runc exits, the shim stays (containerkit/shim)',
    );
    shims = await ShimManager.open({ stateDir: join(work, 'engine') });
    const container = await shims.start(id, bundle, { rootfs, stdio: { stdout: 'pipe', stderr: 'pipe' } });
    detail(`shim pid ${container.shimPid}, talking ttrpc; container created, not started`);
    let output = '';
    container.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = container.wait();
    await container.start();
    const { code } = await exited;
    await container.remove();
    for (const line of output.trimEnd().split('\n')) detail(`| ${line}`);
    detail(`exit code ${code} (the script's own "exit 3", reported by the shim after runc had gone)`);
    await snapshotter.remove(id);
  } finally {
    await shims?.close();
    client.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
  console.log('\nDone: nothing left behind (registry stopped, container and shim gone, snapshots and temp dirs removed).');
}

await main();
