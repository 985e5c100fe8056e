/**
 * Scenario `pull-unpack`: pull the `big` image (a 200 MB incompressible layer and a layer of 20,000 small files) and
 * unpack it into overlay snapshots, starting from an empty store and no snapshots: an in-process
 * `ImageStore.pull(REF, { unpack: { snapshotter } })` (fetch and unpack pipelined: a layer is applied as its bytes
 * arrive, once the layer below it is applied) against `ctr images pull` on a private containerd, which also fetches
 * and unpacks into its overlayfs snapshotter. PERFORMANCE.md: benchmarks of the SDK time in-process API calls
 * against the peer's process, and say so.
 *
 * Fairness rules:
 * - Same input: one image built once in setup (bench/big-image.ts), pushed to a private docker-registry on
 *   127.0.0.1; both sides pull the same tag over plain HTTP.
 * - Same work: resolve, fetch and verify every blob into a content store (containerkit fsyncs each blob), apply
 *   both layers (diff_ids verified) into overlay snapshots committed under their chain IDs, record the image name.
 * - Same start: right before each side runs, that side has no content and no snapshot: containerkit's directory
 *   (the harness's `dest`) is emptied; containerd's image is removed with `ctr images rm --sync` (synchronous GC of
 *   its content and snapshots) and the scenario checks that `ctr content ls` and `ctr snapshots ls` are empty, and
 *   that containerd's overlayfs snapshot and blob directories are empty on disk (no removal left running). Then the
 *   harness syncs and drops the kernel caches (`dropCachesBeforeSide`): the previous pair's deletions otherwise
 *   made the next 20,000 creations scan recently deleted inodes, by far the largest noise in this scenario.
 * - Process cost: containerkit is a call in the harness process (new RegistryClient and ImageStore.open inside the
 *   timed call; the overlay snapshotter is opened untimed before, as containerd's is loaded in the daemon); the peer
 *   is a fresh `ctr` process under GNU time, and containerd's work is inside its wall time (ctr waits for it).
 * - Verified after every pair: containerkit's chain ID is the image's, every layer was applied; containerd holds
 *   exactly the image's chain IDs as committed snapshots; both stacks, mounted as read-only views, list the same
 *   paths and types; on the warm-up pair, the same full tree (modes, owners, mtimes, contents, xattrs).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ImageStore } from '../../lib/images/index.js';
import { chainIds } from '../../lib/oci/chain-id.js';
import type { Mount } from '../../lib/oci/mount.js';
import { RegistryClient } from '../../lib/registry/index.js';
import { OverlaySnapshotter } from '../../lib/unpack/index.js';
import { mount, unmount } from '../../lib/util/mount.js';
import { type ContainerdFixture, startContainerd } from '../../test/fixtures/containerd.js';
import { pushImage } from '../../test/fixtures/images.js';
import { type RegistryFixture, startRegistry } from '../../test/fixtures/registry.js';
import { diffTrees, walkTree } from '../../test/fixtures/tree-compare.js';
import { buildBigLayout } from '../big-image.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const VIEW = 'pull-unpack-verify';

/** Every path under `root` with its type, sorted: what two unpacks of one image must agree on at least. */
async function listing(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .map((e) => `${relative(root, join(e.parentPath ?? e.path, e.name))} ${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : e.isFile() ? 'f' : 'o'}`)
    .sort();
}

/** Parses the JSON `ctr snapshots view --mounts` prints (Go's field names, or lower-case ones) into mounts. */
function parseCtrMounts(text: string): Mount[] {
  const raw = JSON.parse(text) as Array<Record<string, unknown>>;
  if (!Array.isArray(raw) || raw.length === 0) throw new ScenarioFailure(`unexpected ctr snapshots view --mounts output: ${text.slice(0, 200)}`);
  return raw.map((m) => ({
    type: String(m['Type'] ?? m['type']),
    source: String(m['Source'] ?? m['source']),
    options: ((m['Options'] ?? m['options'] ?? []) as string[]).map(String),
  }));
}

/** Mounts `mounts` at `target`, runs `fn`, unmounts. */
async function withMounted<T>(mounts: readonly Mount[], target: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(target, { recursive: true });
  for (const m of mounts) await mount(m, target);
  try {
    return await fn();
  } finally {
    for (let i = 0; i < mounts.length; i++) await unmount(target);
  }
}

/** containerkit's store and snapshots for one pair: the harness empties this side's `dest` right before it runs. */
const ckDir = (pair: PairContext): string => pair.dest.containerkit;

/** Creates the `pull-unpack` scenario. */
export function createPullUnpackScenario(): Scenario {
  let registry: RegistryFixture | undefined;
  let containerd: ContainerdFixture | undefined;
  let reference = '';
  let chains: string[] = [];
  const snapshotters: Partial<Record<number, OverlaySnapshotter>> = {};

  async function ctrCommitted(signal: AbortSignal): Promise<string[]> {
    const lines = (await containerd!.ctr(['snapshots', 'ls'], { signal }))
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '');
    return lines.map((l) => l.trim().split(/\s+/)).map((w) => `${w[0]} ${w.at(-1)}`);
  }

  async function resetContainerd(signal: AbortSignal): Promise<void> {
    const images = await containerd!.ctr(['images', 'ls', '-q'], { signal });
    if (images.split('\n').some((l) => l.trim() === reference)) await containerd!.ctr(['images', 'rm', '--sync', reference], { signal });
    const snapshots = await ctrCommitted(signal);
    const content = (await containerd!.ctr(['content', 'ls', '-q'], { signal })).trim();
    if (snapshots.length > 0 || content !== '') {
      throw new ScenarioFailure(
        `containerd still holds snapshots [${snapshots.join(', ')}] or content [${content.split('\n').join(', ')}] after ctr images rm --sync`,
      );
    }
    // On disk too: a removal still running would land in the next timed section.
    const dirs = [
      join(containerd!.root, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots'),
      join(containerd!.root, 'io.containerd.content.v1.content', 'blobs', 'sha256'),
    ];
    for (let attempt = 0; ; attempt++) {
      const left = (await Promise.all(dirs.map((d) => readdir(d).catch(() => [] as string[])))).flat();
      if (left.length === 0) return;
      if (attempt >= 100) throw new ScenarioFailure(`containerd's directories still hold ${left.join(', ')} 10 s after ctr images rm --sync`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    name: 'pull-unpack',
    description:
      'pull and unpack the 200 MB + 20,000-file image into empty overlay snapshots: ImageStore.pull with unpack (in-process, pipelined) vs ctr images pull on containerd',
    fairness: [
      'containerkit: in-process call in the harness (the SDK as a library, no node start-up): new RegistryClient, ImageStore.open(DIR/content), pull(REF, { unpack: { snapshotter } }): fetch all blobs (verified, fsynced) while applying each layer into an overlay snapshot as its bytes arrive (read from the download in progress), once the layer below is applied',
      'peer: ctr --address SOCK images pull --plain-http REF, a fresh process under GNU time; containerd 1.6 fetches the blobs, then unpacks them into its overlayfs snapshotter (inside the timed ctr call)',
      'same image for both, built once in setup and pushed to one private docker-registry on 127.0.0.1; the overlay snapshotter of containerkit is opened before the timed call (containerd has its own loaded in the daemon)',
      "right before each side runs, that side holds no content and no snapshots: containerkit's DIR is removed and made anew; containerd: ctr images rm --sync, then ctr content ls and ctr snapshots ls checked empty, and its snapshot and blob directories checked empty on disk",
      "then, for either side, sync and drop the kernel caches: after the previous pair's deletions, creating 20,000 files on this ext4 (no journal) otherwise scans the recently deleted inodes still cached, ~30 s of system CPU for whichever side meets them",
      'verified after every pair: containerkit applied every layer and returned the image chain ID; containerd holds exactly the image chain IDs as committed snapshots; read-only views of both stacks list the same paths and types (full tree compare on the warm-up pair)',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      const layout = join(ctx.workDir, 'layout');
      const layers = await buildBigLayout(layout, 'latest', ctx.signal);
      chains = chainIds(layers.map((l) => l.diffId));
      registry = await startRegistry({ signal: ctx.signal });
      await pushImage(layout, 'latest', registry.host, 'big', 'latest', { signal: ctx.signal });
      reference = `${registry.host}/big:latest`;
      containerd = await startContainerd({ signal: ctx.signal });
    },

    async prepare(): Promise<void> {
      // Each side is reset right before it runs (beforeSide), then the harness drops the caches.
    },

    dropCachesBeforeSide: true,

    async beforeSide(side: Side, pair: PairContext): Promise<void> {
      if (side === 'peer') await resetContainerd(pair.signal);
      else snapshotters[pair.index] = await OverlaySnapshotter.open(join(ckDir(pair), 'snapshots'));
    },

    containerkit(pair: PairContext): SideCommand {
      return {
        kind: 'in-process',
        run: async (signal: AbortSignal) => {
          const snapshotter = snapshotters[pair.index]!;
          const client = new RegistryClient();
          try {
            const store = await ImageStore.open(join(ckDir(pair), 'content'), { registry: client, signal });
            const { unpack } = await store.pull(reference, { unpack: { snapshotter }, signal });
            return `${unpack!.chainId} applied ${unpack!.layers.filter((l) => l.applied).length}/${unpack!.layers.length}`;
          } finally {
            client.close();
          }
        },
      };
    },

    peer(): SideCommand {
      return {
        kind: 'process',
        argv: ['ctr', '--address', containerd!.address, '--namespace', containerd!.namespace, 'images', 'pull', '--plain-http', reference],
      };
    },

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      const top = chains.at(-1)!;
      const want = `${top} applied ${chains.length}/${chains.length}`;
      if (results.containerkit.stdout !== want)
        throw new ScenarioFailure(`containerkit gave ${JSON.stringify(results.containerkit.stdout)}, expected ${JSON.stringify(want)}`);
      const theirs = (await ctrCommitted(pair.signal)).sort();
      const expected = chains.map((c) => `${c} Committed`).sort();
      if (theirs.join(' ') !== expected.join(' '))
        throw new ScenarioFailure(`containerd holds snapshots [${theirs.join(', ')}], expected [${expected.join(', ')}]`);

      // Both stacks as read-only views, mounted side by side.
      const snapshotter = snapshotters[pair.index]!;
      delete snapshotters[pair.index];
      const ours = await snapshotter.view(VIEW, top);
      try {
        // The mounts are printed when the view is made: ctr leaves the view to containerd's GC (no lease), but a
        // read-only overlay view mounts only the committed layers' directories, which the image keeps.
        const theirMounts = parseCtrMounts(await containerd!.ctr(['snapshots', 'view', '--mounts', VIEW, top], { signal: pair.signal }));
        await withMounted(ours, join(pair.workDir, 'mnt-containerkit'), () =>
          withMounted(theirMounts, join(pair.workDir, 'mnt-peer'), async () => {
            const [a, b] = await Promise.all([listing(join(pair.workDir, 'mnt-containerkit')), listing(join(pair.workDir, 'mnt-peer'))]);
            if (a.length < 20_000 || a.join('\n') !== b.join('\n')) {
              const onlyOurs = a.filter((p) => !b.includes(p)).slice(0, 5);
              const onlyTheirs = b.filter((p) => !a.includes(p)).slice(0, 5);
              throw new ScenarioFailure(
                `the unpacked trees differ: ${a.length} vs ${b.length} entries; only containerkit: ${onlyOurs.join(', ')}; only ctr: ${onlyTheirs.join(', ')}`,
              );
            }
            if (pair.warmup) {
              const [x, y] = await Promise.all([walkTree(join(pair.workDir, 'mnt-containerkit')), walkTree(join(pair.workDir, 'mnt-peer'))]);
              const differences = diffTrees(y, x, { ignoreDirMtimes: true });
              if (differences.length > 0)
                throw new ScenarioFailure(`the unpacked trees differ (${differences.length}): ${differences.slice(0, 10).join('; ')}`);
            }
          }),
        );
      } finally {
        await snapshotter.remove(VIEW).catch(() => undefined);
        await containerd!.ctr(['snapshots', 'rm', VIEW]).catch(() => ''); // already collected, most likely
      }
    },

    async teardown(): Promise<void> {
      try {
        await containerd?.stop();
      } finally {
        await registry?.stop();
      }
    },
  };
}
