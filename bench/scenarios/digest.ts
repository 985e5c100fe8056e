/**
 * Scenario `digest`: sha256 of a 500 MB file, containerkit's `digestFile` in a fresh node process against
 * coreutils' `sha256sum`.
 *
 * Fairness rules:
 * - Same input: one file of random bytes, written once in setup; both sides read the same path.
 * - Same cache state: the file is in the page cache for both (setup wrote it and the warm-up pair read it on both
 *   sides), so the measured pairs compare hashing and reading from memory, not the disk.
 * - Same process cost: each side is one fresh process per run, started the same way (under GNU time, stdout piped
 *   to the harness); node's start-up (~57 ms here) counts against containerkit, as it would for a CLI user.
 * - The containerkit child is plain JS importing the built dist/, so no TypeScript transpiling is timed.
 * - Same result: both must print the digest that setup computed with node's crypto while writing the file.
 */
import { createHash, randomFill } from 'node:crypto';
import { access, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BenchContext, type PairContext, type Scenario, ScenarioFailure, type Side, type SideCommand, type SideResult } from '../scenario.js';

const randomFillAsync = promisify(randomFill);

/** 500 MB, deliberately not a multiple of the 1 MiB read size, so the short last read is part of the work. */
export const DIGEST_FILE_BYTES = 500_000_000;
const WRITE_CHUNK = 4 * 1024 * 1024;

/** Writes `bytes` random bytes to `path` and returns their sha256 hex, computed while writing. */
async function writeRandomFile(path: string, bytes: number, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(WRITE_CHUNK);
  const handle = await open(path, 'wx');
  try {
    for (let written = 0; written < bytes; ) {
      signal.throwIfAborted();
      const chunk = buf.subarray(0, Math.min(WRITE_CHUNK, bytes - written));
      await randomFillAsync(chunk);
      hash.update(chunk);
      await handle.write(chunk, 0, chunk.length, written);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Throws unless `file` is newer than every source it was built from; a stale dist/ would time old code. */
async function checkBuilt(repoRoot: string): Promise<void> {
  const built = join(repoRoot, 'dist', 'util', 'digest-stream.js');
  const source = join(repoRoot, 'lib', 'util', 'digest-stream.ts');
  try {
    await access(built);
  } catch {
    throw new ScenarioFailure(`${built} is missing: build first (npm run build, or npx tsc -p tsconfig.build.json)`);
  }
  if ((await stat(built)).mtimeMs < (await stat(source)).mtimeMs) {
    throw new ScenarioFailure(`${built} is older than ${source}: rebuild first (npm run build)`);
  }
}

/** Creates the `digest` scenario. */
export function createDigestScenario(): Scenario {
  let file = '';
  let expectedHex = '';

  const parse = (side: Side, result: SideResult, pattern: RegExp): string => {
    const match = pattern.exec(result.stdout);
    if (!match) throw new ScenarioFailure(`${side} printed ${JSON.stringify(result.stdout.slice(0, 200))}, not a sha256 digest line`);
    return match[1]!;
  };

  return {
    name: 'digest',
    description: `sha256 of a ${DIGEST_FILE_BYTES / 1e6} MB file of random bytes`,
    fairness: [
      'containerkit: start node, load dist/util/digest-stream.js, digestFile(FILE): read 1 MiB chunks into two reused buffers, hash with node crypto (OpenSSL), print sha256:<hex>, exit',
      'peer: start sha256sum (coreutils), read and hash FILE, print "<hex>  FILE", exit',
      'same file for both, written once in setup and in the page cache for both after the warm-up pair',
      'both are one fresh process per run, spawned the same way under GNU time; process start-up counts on both sides',
      'the containerkit child is plain JS over the built dist/, so no TypeScript transpiling is timed',
      'verified after every pair: both printed the digest setup computed while writing the file',
    ],

    async setup(ctx: BenchContext): Promise<void> {
      await checkBuilt(ctx.repoRoot);
      file = join(ctx.workDir, 'input.bin');
      expectedHex = await writeRandomFile(file, DIGEST_FILE_BYTES, ctx.signal);
    },

    async prepare(): Promise<void> {
      // Nothing to reset: both sides only read the input, and neither writes to its destination.
    },

    containerkit(pair: PairContext): SideCommand {
      return { kind: 'process', argv: [process.execPath, join(pair.repoRoot, 'bench', 'children', 'digest.mjs'), file] };
    },

    peer(): SideCommand {
      return { kind: 'process', argv: ['sha256sum', file] };
    },

    async verify(_pair: PairContext, results: Record<Side, SideResult>): Promise<void> {
      const ours = parse('containerkit', results.containerkit, /^sha256:([0-9a-f]{64})\n$/);
      const theirs = parse('peer', results.peer, /^([0-9a-f]{64}) [ *](.*)\n$/);
      if (ours !== theirs) throw new ScenarioFailure(`containerkit printed sha256:${ours}, sha256sum printed ${theirs}`);
      if (ours !== expectedHex) throw new ScenarioFailure(`both printed ${ours}, but the file's digest is ${expectedHex}`);
    },

    async teardown(): Promise<void> {
      if (file !== '') await rm(file, { force: true });
    },
  };
}
