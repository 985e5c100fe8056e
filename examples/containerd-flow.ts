// dockerd's half of `docker run`, played by containerkit against a real containerd: pull an image into containerd
// (content, GC labels, unpacked snapshots), build a runtime spec from the image's config, create the container and
// its task (containerd starts a containerd-shim-runc-v2, which runs runc), wait for the exit, and clean up.
//
//   sudo npx tsx examples/containerd-flow.ts IMAGE [CMD...]
//
// IMAGE is pulled over plain HTTP when its registry is on loopback (as dockerd does). containerd's socket comes
// from $CONTAINERD_ADDRESS (default /run/containerd/containerd.sock) and the namespace from $CONTAINERD_NAMESPACE
// (default `default`), as with ctr. Afterwards `ctr images ls` lists the image and `ctr run` runs it.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { text as readText } from 'node:stream/consumers';
import { ContainerdClient } from 'containerkit/containerd';
import { containerdPull } from 'containerkit/images';
import { RegistryClient } from 'containerkit/registry';
import { generateSpec, withHostname, withImageConfig } from 'containerkit/runtime';

const step = (who: string, what: string): void => console.log(`\n\x1b[1m[${who}]\x1b[0m ${what}`);
const detail = (line: string): void => console.log(`    ${line}`);
const text = async (stream: Readable | undefined): Promise<string> => (stream === undefined ? '' : readText(stream));

async function main(): Promise<number> {
  const [image, ...args] = process.argv.slice(2);
  if (image === undefined) {
    console.error('usage: containerd-flow.ts IMAGE [CMD...]');
    return 2;
  }
  const client = new ContainerdClient();
  const registry = new RegistryClient();
  const id = `containerd-flow-${randomBytes(3).toString('hex')}`;
  try {
    const version = await client.version();
    step('dockerd → containerd', `gRPC to containerd ${version.version} at ${client.address}, namespace ${client.namespace}`);

    step('docker pull', `${image}: blobs into containerd's content store, layers applied with Diff.Apply as they arrive`);
    const pulled = await containerdPull(client, image, { resolver: registry });
    detail(`${pulled.name} → ${pulled.target.digest} (manifest ${pulled.manifestDescriptor.digest.slice(0, 19)}…)`);
    detail(`rootfs chain ID ${pulled.chainId}`);

    step('docker create', 'a runtime spec from the pulled image config; the rootfs snapshot and the container record, in one lease');
    const spec = await generateSpec([withImageConfig(pulled.config, args.length > 0 ? { args } : {}), withHostname(id)], { id, namespace: client.namespace });
    detail(`process: ${JSON.stringify(spec.process?.args)}`);
    const container = await client.createContainer(id, { spec, image: pulled.name });
    detail(`container ${id} on snapshot ${id} (parent ${pulled.chainId?.slice(0, 19)}…)`);

    step('docker start', 'containerd starts containerd-shim-runc-v2, which runs runc create; stdio over FIFOs');
    const task = await container.newTask({ stdio: { stdout: 'pipe', stderr: 'pipe' } });
    detail(`task pid ${task.pid}`);
    // Read from the start: a process that fills a FIFO nobody reads blocks.
    const output = Promise.all([text(task.stdout), text(task.stderr)]);
    const exited = task.wait();
    await task.start();
    const exit = await exited;
    const [stdout, stderr] = await output;
    for (const line of stdout.split('\n').filter(Boolean)) detail(`stdout: ${line}`);
    for (const line of stderr.split('\n').filter(Boolean)) detail(`stderr: ${line}`);
    detail(`exit code ${exit.code}`);

    step('docker rm', 'task (the shim exits), container record and its snapshot deleted');
    await task.delete();
    await container.delete();
    const left = (await client.containers.list()).filter((c) => c.id === id).length;
    detail(`containers left with id ${id}: ${left}; the image stays for ctr to list and run`);
    return 0;
  } finally {
    registry.close();
    await client.close();
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : err);
  return 1;
});
