/**
 * Scenario `unpack`: unpack the `big` image (a 200 MB incompressible layer and a layer of 20,000 small files) from
 * an OCI layout into an empty root filesystem, applyLayer in a fresh node process against `umoci raw unpack`.
 *
 * Fairness rules:
 * - Same input: one OCI layout built once in setup (bench/big-image.ts), read by both sides from the same disk.
 * - Same work: each side reads index.json, the manifest and the config, verifies every blob's digest and every
 *   layer's diff_id, decompresses and applies both layers in order into `<its dest>/rootfs`, which does not exist
 *   before the run (umoci requires that; the harness empties both dests every pair). umoci also writes nothing else
 *   with `raw unpack` (no runtime bundle, no mtree).
 * - Same process cost: both are one fresh process per run under GNU time; node's start-up counts against
 *   containerkit. The containerkit child is plain JS over the built dist/.
 * - Verified after every pair: both root filesystems hold the same tree (paths, types, modes, owners, mtimes, link
 *   targets, contents, xattrs), compared with test/fixtures/tree-compare.
 * - Caches dropped (after a sync) right before each side, as in pull-unpack: each pair deletes the last pair's
 *   20,000 files, and ext4 then makes every new inode skip the recently deleted ones still cached (see
 *   `dropCachesBeforeSide`), which had one side's time grow from 2 s to 9 s over seven pairs.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { diffTrees, walkTree } from '../../test/fixtures/tree-compare.js';
import { buildBigLayout } from '../big-image.js';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const TAG = 'latest';
/** A difference that only says an implicitly created parent directory got a different mtime. */
const IMPLICIT_DIR_MTIME = /^"(random|small)": mtime \d+ != \d+$/;

/** Creates the `unpack` scenario. */
export function createUnpackScenario(): Scenario {
  let layout = '';
  let diffIds: string[] = [];

  return {
    name: 'unpack',
    description: 'unpack a 200 MB incompressible layer and a 20,000-file layer from an OCI layout into an empty root filesystem',
    fairness: [
      'containerkit: start node, load dist/unpack, read index.json/manifest/config, applyLayer of each layer in order (digest, size and diff_id verified; 1 MiB reads) into DEST/rootfs, exit',
      'peer: umoci --log error raw unpack --image LAYOUT:latest DEST/rootfs, which also verifies digests and diff_ids',
      'same layout for both, built once in setup; rootfs does not exist before either run (empty dest recreated every pair)',
      'both are one fresh process per run, spawned the same way under GNU time',
      'verified after every pair: both root filesystems are the same tree (paths, types, modes, owners, mtimes, targets, contents, xattrs)',
      'sync and kernel caches dropped right before each side (after its dest was emptied): 20,000 creations right after 20,000 deletions otherwise pay ext4 inode-table scans that grow pair by pair',
    ],
    dropCachesBeforeSide: true,

    async setup(ctx: BenchContext): Promise<void> {
      const built = join(ctx.repoRoot, 'dist', 'unpack', 'apply-layer.js');
      try {
        await access(built);
      } catch {
        throw new ScenarioFailure(`${built} is missing: build first (npm run build)`);
      }
      layout = join(ctx.workDir, 'layout');
      diffIds = (await buildBigLayout(layout, TAG, ctx.signal)).map((l) => l.diffId);
    },

    async prepare(): Promise<void> {
      // The harness empties both destination directories; the layout is read-only for both sides.
    },

    containerkit(pair: PairContext): SideCommand {
      return {
        kind: 'process',
        argv: [process.execPath, join(pair.repoRoot, 'bench', 'children', 'unpack.mjs'), layout, TAG, join(pair.dest.containerkit, 'rootfs')],
      };
    },

    peer(pair: PairContext): SideCommand {
      return { kind: 'process', argv: ['umoci', '--log', 'error', 'raw', 'unpack', '--image', `${layout}:${TAG}`, join(pair.dest.peer, 'rootfs')] };
    },

    async verify(pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      for (const side of ['containerkit', 'peer'] as const) {
        if (results[side].exitCode !== 0) throw new ScenarioFailure(`${side} exited ${results[side].exitCode}: ${results[side].stderr.slice(-500)}`);
      }
      const printed = results.containerkit.stdout.trim().split('\n');
      if (printed.join(' ') !== diffIds.join(' ')) throw new ScenarioFailure(`containerkit applied ${printed.join(' ')}, expected ${diffIds.join(' ')}`);
      const [ours, theirs] = await Promise.all([walkTree(join(pair.dest.containerkit, 'rootfs')), walkTree(join(pair.dest.peer, 'rootfs'))]);
      // `random/` and `small/` have no tar entry of their own: both sides create them with the time of the run.
      const differences = diffTrees(theirs, ours).filter((d) => !IMPLICIT_DIR_MTIME.test(d));
      if (differences.length > 0) throw new ScenarioFailure(`the trees differ (${differences.length}): ${differences.slice(0, 10).join('; ')}`);
      if (ours.size < 20_000) throw new ScenarioFailure(`only ${ours.size} entries unpacked`);
    },

    async teardown(): Promise<void> {
      // Everything lives in the work dir, which the harness removes.
    },
  };
}
