/**
 * Scenario `containerd-pull`: pull of the `big` image (a 200 MB incompressible layer and a layer of 20,000 small
 * files) into a containerd emptied of images, content and snapshots, then unpacked into overlayfs snapshots:
 * containerkit's `containerdPull` (in-process, RegistryClient as the resolver) against
 * `ctr images pull --plain-http`.
 *
 * Fairness rules:
 * - Same input: one image built once in setup (bench/big-image.ts), pushed to a private docker-registry on
 *   127.0.0.1; both sides pull the same tag over plain HTTP.
 * - One containerd per side (same build, same config): containerd shares committed blobs across namespaces, so a
 *   second pull into the same daemon would skip the transfer. Right before its side runs, each daemon is emptied (images
 *   deleted with a synchronous GC, then any blob, ingest, lease and snapshot left removed, and a second synchronous
 *   GC so no removal runs during the timed section), and checked empty with `ctr content ls` / `ctr snapshots ls`
 *   and on disk. Then the harness syncs and drops the kernel caches (`dropCachesBeforeSide`), so neither side's
 *   20,000 creations scan the inodes the emptying just deleted.
 * - Same work, timed: both resolve the tag, fetch manifest, config and both layers into containerd's content store
 *   (through Content.Write, with GC reference labels), unpack both layers with Diff.Apply into committed overlayfs
 *   snapshots named by chain ID, label the layers and config, and record the image. ctr fetches everything and
 *   then unpacks; containerkit starts unpacking a layer as soon as it and the layers below are in.
 * - Process cost: containerkit is an in-process call (the SDK used as a library, its gRPC connection open; the
 *   RegistryClient is created and closed inside the timed call), the peer is the `ctr` process the issue names,
 *   spawned fresh under GNU time (its start-up counts, and its peak RSS is the pulling client's memory).
 * - Verified after every pair, on both daemons: the image is listed under the tag with the pushed manifest digest,
 *   its top chain-ID snapshot is committed, the content store holds exactly the image's blobs, the config carries
 *   the snapshot GC label, and no lease is left.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerdClient } from '../../lib/containerd/index.js';
import { hasCode } from '../../lib/errors/index.js';
import { containerdPull } from '../../lib/images/index.js';
import { chainIds } from '../../lib/oci/chain-id.js';
import { RegistryClient, StaticCredentials } from '../../lib/registry/index.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { pushImage } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { blobSet, buildBigLayout } from '../big-image.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, SIDES, type Side, type SideCommand, type SideResult } from '../scenario.js';

const NAMESPACE = 'bench-containerd-pull';
const SNAPSHOTTER = 'overlayfs';

const ignoreNotFound = (err: unknown): void => {
  if (!hasCode(err, 'ERR_CONTAINERD_NOT_FOUND')) throw err;
};

/** Entries of a directory, none when it does not exist. */
const entries = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);

/** Runs a synchronous GC pass: deleting a lease with `sync` makes containerd collect before it answers. */
async function collectGarbage(client: ContainerdClient, signal: AbortSignal): Promise<void> {
  const lease = await client.leases.create({ signal });
  await client.leases.delete(lease.id, { sync: true, signal });
}

/**
 * Empties one side's containerd of images, leases, ingests, snapshots and blobs, then checks it with ctr and on
 * disk. Throws a {@link ScenarioFailure} when something stays.
 */
async function emptyContainerd(fixture: ContainerdFixture, client: ContainerdClient, side: Side, signal: AbortSignal): Promise<void> {
  for (const image of await client.images.list([], { signal })) await client.images.delete(image.name, { sync: true, signal }).catch(ignoreNotFound);
  for (const lease of await client.leases.list([], { signal })) await client.leases.delete(lease.id, { sync: true, signal }).catch(ignoreNotFound);
  for (const ingest of await client.content.listStatuses({ signal })) await client.content.abort(ingest.ref, { signal }).catch(ignoreNotFound);
  // Snapshots go leaves first: a parent cannot be removed while a child exists.
  for (let round = 0; round < 20; round++) {
    const snaps = await client.snapshots.list([], { signal });
    if (snaps.length === 0) break;
    const parents = new Set(snaps.map((s) => s.parent));
    for (const s of snaps) if (!parents.has(s.name)) await client.snapshots.remove(s.name, { signal }).catch(ignoreNotFound);
  }
  for (const blob of await client.content.list([], { signal })) await client.content.delete(blob.digest, { signal }).catch(ignoreNotFound);
  // Removed metadata leaves files for the collector; collect now, not during the next timed pull.
  await collectGarbage(client, signal);

  const content = (await fixture.ctr(['content', 'ls', '-q'], { signal })).trim();
  const snapshots = (await fixture.ctr(['snapshots', '--snapshotter', SNAPSHOTTER, 'ls'], { signal }))
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
  const images = (await fixture.ctr(['images', 'ls', '-q'], { signal })).trim();
  if (content !== '' || snapshots.length > 0 || images !== '') {
    throw new ScenarioFailure(
      `${side}'s containerd is not empty before the pair: images ${JSON.stringify(images)}, content ${JSON.stringify(content)}, snapshots ${JSON.stringify(snapshots)}`,
    );
  }
  const onDisk = [
    join(fixture.root, 'io.containerd.content.v1.content', 'blobs', 'sha256'),
    join(fixture.root, 'io.containerd.content.v1.content', 'ingest'),
    join(fixture.root, `io.containerd.snapshotter.v1.${SNAPSHOTTER}`, 'snapshots'),
  ];
  for (const dir of onDisk) {
    const left = await entries(dir);
    if (left.length > 0) throw new ScenarioFailure(`${side}'s containerd still has ${left.length} entries in ${dir}: ${left.slice(0, 5).join(', ')}`);
  }
}

/** Creates the `containerd-pull` scenario. */
export function createContainerdPullScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  const daemons: Partial<Record<Side, ContainerdFixture>> = {};
  const clients: Partial<Record<Side, ContainerdClient>> = {};
  let reference = '';
  let manifestDigest = '';
  let topChain = '';
  let configDigest = '';
  let expectedBlobs: string[] = [];

  return {
    name: 'containerd-pull',
    description: 'pull (fetch + unpack) the 200 MB + 20,000-file image into an emptied containerd: containerdPull in-process vs ctr images pull --plain-http',
    fairness: [
      'containerkit: containerdPull(client, REF, { resolver: new RegistryClient(...) }) in the harness process (gRPC connection to its containerd already open; the RegistryClient is created and closed inside the timed call): lease, fetch every blob through Content.Write with GC labels, Diff.Apply each layer once it and the layers below are in, commit chain-ID snapshots, label, record the image',
      `peer: ctr --address <its containerd> --namespace ${NAMESPACE} images pull --plain-http REF, a fresh ctr 1.6 process under GNU time (fetch all blobs, then unpack each layer with Diff.Apply, record the image)`,
      'same image for both, built once in setup and pushed to one private docker-registry on 127.0.0.1, pulled over plain HTTP',
      'one containerd per side, same binary and config (containerd shares blobs across namespaces, so one daemon would let the second side skip the transfer)',
      'each daemon is emptied right before its side runs, untimed (images deleted with sync GC; leftover leases, ingests, snapshots, blobs removed; a second sync GC) and checked empty with ctr content ls / ctr snapshots ls and on disk; then sync and drop the kernel caches (the previous deletions otherwise make 20,000 creations on this ext4 scan recently deleted inodes, ~30 s of system CPU for whichever side meets them)',
      'SDK used as a library against the peer CLI: no node start-up is timed for containerkit, ctr start-up is timed for the peer',
      'peak RSS: the peer figure is the ctr client (it streams the blobs into containerd); containerkit runs in the harness process, so none is reported for it; containerd itself is counted for neither',
      'verified after every pair on both daemons: image listed with the pushed manifest digest, top chain-ID snapshot committed, content = exactly the image blobs, config labelled with the snapshot GC ref, no lease left',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      const layout = join(ctx.workDir, 'layout');
      const layers = await buildBigLayout(layout, 'latest', ctx.signal);
      const [reg, ck, peer] = await Promise.all([
        startRegistry({ signal: ctx.signal }),
        startContainerd({ namespace: NAMESPACE, signal: ctx.signal }),
        startContainerd({ namespace: NAMESPACE, signal: ctx.signal }),
      ]);
      registry = reg;
      daemons.containerkit = ck;
      daemons.peer = peer;
      for (const side of SIDES) clients[side] = new ContainerdClient({ address: daemons[side]!.address, namespace: NAMESPACE });
      manifestDigest = await pushImage(layout, 'latest', registry.host, 'big', 'latest', { signal: ctx.signal });
      reference = `${registry.host}/big:latest`;
      topChain = chainIds(layers.map((l) => l.diffId)).at(-1)!;
      expectedBlobs = [...(await blobSet(layout)).keys()].map((hex) => `sha256:${hex}`).sort();
      const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', manifestDigest.slice('sha256:'.length)), 'utf8')) as {
        config: { digest: string };
      };
      configDigest = manifest.config.digest;
      if (!expectedBlobs.includes(manifestDigest)) throw new ScenarioFailure(`pushed manifest ${manifestDigest} is not in the layout's blobs`);
    },

    async prepare(): Promise<void> {
      // Each daemon is emptied right before its side runs (beforeSide): emptying both here made the first side pay
      // for both deletions of 20,000 files.
    },

    dropCachesBeforeSide: true,

    async beforeSide(side: Side, pair: PairContext): Promise<void> {
      await emptyContainerd(daemons[side]!, clients[side]!, side, pair.signal);
    },

    containerkit(): SideCommand {
      return {
        kind: 'in-process',
        async run(signal: AbortSignal): Promise<string> {
          const resolver = new RegistryClient({ credentials: new StaticCredentials({}) });
          try {
            const result = await containerdPull(clients.containerkit!, reference, { resolver, signal });
            return `${result.target.digest} ${result.chainId ?? 'not unpacked'}`;
          } finally {
            resolver.close();
          }
        },
      };
    },

    peer(): SideCommand {
      return { kind: 'process', argv: ['ctr', '--address', daemons.peer!.address, '--namespace', NAMESPACE, 'images', 'pull', '--plain-http', reference] };
    },

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      const said = results.containerkit.stdout;
      if (said !== `${manifestDigest} ${topChain}`)
        throw new ScenarioFailure(`containerkit returned ${JSON.stringify(said)}, expected "${manifestDigest} ${topChain}"`);
      for (const side of SIDES) {
        const client = clients[side]!;
        const fail = (what: string): never => {
          throw new ScenarioFailure(`${side} (pair ${pair.index}): ${what}`);
        };
        const listed = (await daemons[side]!.ctr(['images', 'ls'], { signal: pair.signal }))
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/));
        const row = listed.find((cols) => cols[0] === reference);
        if (row === undefined) fail(`ctr images ls does not list ${reference}: ${JSON.stringify(listed)}`);
        if (!row!.includes(manifestDigest)) fail(`${reference} is listed as ${row!.join(' ')}, not with digest ${manifestDigest}`);
        const snap = await client.snapshots
          .stat(topChain, { signal: pair.signal })
          .catch((err: unknown) => fail(`top snapshot ${topChain} missing: ${String(err)}`));
        if (snap.kind !== 'committed') fail(`top snapshot ${topChain} is ${snap.kind}, not committed`);
        const blobs = (await client.content.list([], { signal: pair.signal })).map((b) => b.digest as string).sort();
        if (JSON.stringify(blobs) !== JSON.stringify(expectedBlobs))
          fail(`content store holds ${JSON.stringify(blobs)}, expected ${JSON.stringify(expectedBlobs)}`);
        const config = await client.content.info(configDigest, { signal: pair.signal });
        if (config.labels[`containerd.io/gc.ref.snapshot.${SNAPSHOTTER}`] !== topChain)
          fail(`config ${configDigest} lacks the snapshot GC label: ${JSON.stringify(config.labels)}`);
        const leases = await client.leases.list([], { signal: pair.signal });
        if (leases.length > 0) fail(`leases left: ${leases.map((l) => l.id).join(', ')}`);
      }
    },

    async teardown(): Promise<void> {
      for (const side of SIDES) await clients[side]?.close();
      await Promise.all(SIDES.map((side) => daemons[side]?.stop()));
      await registry?.stop();
    },
  };
}
