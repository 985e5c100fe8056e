// The docker → runc flow, replayed offline: build an image, serve it from a private registry, pull it, verify
// every byte, unpack it, build an OCI runtime spec from its config and run it with runc.
//
//   npm run demo            (Debian, as root; `npm ci` first)
//
// Each step says which containerkit part plays it. Parts that do not exist yet are played by the peer tool that
// containerkit measures itself against (skopeo, umoci), and the output says so.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DigestVerifier,
  familiarString,
  normalizeReference,
  parseImageConfig,
  parseManifestOrIndex,
  runTool,
  splitDigest,
  type Descriptor,
} from 'containerkit';
import { OCIRuntime, generateSpec, withHostname, withImageConfig } from 'containerkit/runtime';
// The demo borrows two test fixtures to stay offline: an image built from busybox-static, and a private
// docker-registry on a random 127.0.0.1 port.
import { buildBusyboxImage, pushImage } from '../test/fixtures/images.js';
import { startRegistry } from '../test/fixtures/registry.js';

const step = (who: string, what: string): void => console.log(`\n\x1b[1m[${who}]\x1b[0m ${what}`);
const detail = (text: string): void => console.log(`    ${text}`);

async function verifyBlob(layout: string, descriptor: Descriptor): Promise<void> {
  const { algorithm, hex } = splitDigest(descriptor.digest);
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  await pipeline(
    createReadStream(join(layout, 'blobs', algorithm, hex), { highWaterMark: 1 << 20 }),
    new DigestVerifier({ algorithm, hex, size: descriptor.size }),
    sink,
  );
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'containerkit-demo-'));
  const registry = await startRegistry();
  const runtime = new OCIRuntime({ root: join(work, 'runc') });
  const id = `demo-${process.pid}`;
  try {
    step('docker build', 'an image built offline from /bin/busybox (busybox-static) into an OCI layout');
    const image = await buildBusyboxImage(join(work, 'build'));
    detail(`manifest ${image.manifestDigest}, ${image.layers.length} layer`);

    step('docker push', `to a private docker-registry at ${registry.url}  (skopeo: RegistryClient is not built yet)`);
    const pushed = await pushImage(image.layoutDir, image.tag, registry.host, 'demo/busybox', 'latest');
    detail(`pushed ${pushed}`);

    step('docker pull', 'resolve the name (containerkit/oci), fetch (skopeo), verify every byte (containerkit/util)');
    const ref = normalizeReference(`${registry.host}/demo/busybox`);
    detail(`reference ${familiarString(ref)} → ${ref.toString()}`);
    const layout = join(work, 'pulled');
    await runTool('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref.toString()}`, `oci:${layout}:latest`]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const manifestDescriptor = index.manifests[0]!;
    await verifyBlob(layout, manifestDescriptor);
    const { hex: manifestHex } = splitDigest(manifestDescriptor.digest);
    const parsed = parseManifestOrIndex(await readFile(join(layout, 'blobs', 'sha256', manifestHex)), { expected: manifestDescriptor });
    if (parsed.kind !== 'manifest') throw new Error('expected an image manifest');
    const { manifest } = parsed;
    await verifyBlob(layout, manifest.config);
    const configBytes = await readFile(join(layout, 'blobs', 'sha256', splitDigest(manifest.config.digest).hex));
    const config = parseImageConfig(configBytes, { expected: manifest.config });
    for (const layer of manifest.layers) {
      await verifyBlob(layout, layer);
      detail(`layer ${layer.digest.slice(0, 19)}… ${layer.size} bytes: digest and size verified`);
    }
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
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
  console.log('\nDone: nothing left behind (registry stopped, container deleted, temp dirs removed).');
}

await main();
