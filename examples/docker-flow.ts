// The docker → runc flow, replayed offline: build an image, serve it from a private registry, pull it, verify
// every byte, unpack it, build an OCI runtime spec from its config and run it with runc.
//
//   npm run demo            (Debian, as root; `npm ci` first)
//
// Each step says which containerkit part plays it. Parts that do not exist yet are played by the peer tool that
// containerkit measures itself against (umoci for unpacking), and the output says so.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { familiarString, normalizeReference, runTool, splitDigest, type ImageIndex } from 'containerkit';
import { RegistryClient } from 'containerkit/registry';
import { OCIRuntime, generateSpec, withHostname, withImageConfig } from 'containerkit/runtime';
// The demo borrows two test fixtures to stay offline: an image built from busybox-static, and a private
// docker-registry on a random 127.0.0.1 port.
import { buildBusyboxImage } from '../test/fixtures/images.js';
import { startRegistry } from '../test/fixtures/registry.js';

const step = (who: string, what: string): void => console.log(`\n\x1b[1m[${who}]\x1b[0m ${what}`);
const detail = (text: string): void => console.log(`    ${text}`);

function blobPath(layout: string, digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return join(layout, 'blobs', algorithm, hex);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'containerkit-demo-'));
  const registry = await startRegistry();
  const runtime = new OCIRuntime({ root: join(work, 'runc') });
  const client = new RegistryClient(); // loopback registries speak plain HTTP, as with dockerd
  const id = `demo-${process.pid}`;
  try {
    step('docker build', 'an image built offline from /bin/busybox (busybox-static) into an OCI layout');
    const image = await buildBusyboxImage(join(work, 'build'));
    detail(`manifest ${image.manifestDigest}, ${image.layers.length} layer`);

    step('docker push', `to a private docker-registry at ${registry.url}, children first (containerkit/registry)`);
    const ref = normalizeReference(`${registry.host}/demo/busybox`);
    const builtIndex = JSON.parse(await readFile(join(image.layoutDir, 'index.json'), 'utf8')) as ImageIndex;
    const pushed = await client.pushImage(ref, builtIndex.manifests[0]!, {
      read: (d) => createReadStream(blobPath(image.layoutDir, d.digest)),
    });
    detail(`pushed ${familiarString(ref)} → ${pushed.descriptor.digest} (${pushed.blobs.size} blobs uploaded)`);

    step('docker pull', 'resolve, fetch manifest, config and layers, every byte verified (containerkit/registry)');
    const { descriptor } = await client.resolve(ref);
    detail(`${ref.toString()} resolves to ${descriptor.digest}`);
    const { bytes, parsed } = await client.fetchManifest(ref, { descriptor });
    if (parsed.kind !== 'manifest') throw new Error('expected an image manifest');
    const { manifest } = parsed;
    const config = await client.fetchImageConfig(ref, manifest.config);
    // The pulled image goes into an OCI image layout (the ImageStore's format) for the unpack step.
    const layout = join(work, 'pulled');
    await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
    await writeFile(blobPath(layout, descriptor.digest), bytes);
    for (const blob of [manifest.config, ...manifest.layers]) {
      await pipeline(await client.fetchBlob(ref, blob), createWriteStream(blobPath(layout, blob.digest)));
      detail(`${blob.digest.slice(0, 19)}… ${blob.size} bytes: digest and size verified while streaming`);
    }
    const named = { ...descriptor, annotations: { 'org.opencontainers.image.ref.name': 'latest' } };
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [named] }));
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    detail(`config: ${config.os}/${config.architecture}, Cmd ${JSON.stringify(config.config?.Cmd)}`);

    step('containerd unpack', 'layers into a root filesystem  (umoci: the Unpacker is not built yet)');
    const bundle = join(work, id); // runc's bundle; the shim will want the dir named after the id
    await mkdir(bundle);
    await runTool('umoci', ['raw', 'unpack', '--image', `${layout}:latest`, join(bundle, 'rootfs')]);
    detail(`rootfs at ${join(bundle, 'rootfs')}`);

    step('containerd → spec', 'an OCI runtime spec from the image config (containerkit/runtime spec builder)');
    const script = 'echo "hello from a container: $(hostname), pid $$, uid $(id -u)"; echo "rootfs: $(ls / | tr "\\n" " ")"; exit 3';
    const spec = await generateSpec([withImageConfig(config, { args: ['sh', '-c', script] }), withHostname('demo')], {
      rootfs: join(bundle, 'rootfs'),
      id,
    });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    detail(`${spec.mounts?.length} mounts, ${spec.process?.capabilities?.bounding?.length} capabilities, seccomp ${spec.linux?.seccomp ? 'on' : 'off'}`);

    const version = await runtime.version();
    step('runc run', `the container in the foreground (containerkit/runtime OCIRuntime over ${version.name} ${version.version})`);
    const result = await runtime.run(id, bundle, { stdio: 'pipe' });
    if (!('exitCode' in result)) throw new Error('expected a foreground result');
    for (const line of (result.stdout ?? '').trimEnd().split('\n')) detail(`| ${line}`);
    detail(`exit code ${result.exitCode} (the script's own "exit 3", reported by runc through containerkit)`);
  } finally {
    await runtime.delete(id, { force: true }).catch(() => undefined);
    client.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
  console.log('\nDone: nothing left behind (registry stopped, container deleted, temp dirs removed).');
}

await main();
