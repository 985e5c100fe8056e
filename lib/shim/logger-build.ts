import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newError } from '../errors/index.js';
import { logger, runTool } from '../util/index.js';

const log = logger('shim:logger');

// The C source ships in lib/shim/logger/; from a build in dist/shim/ it is found back in lib/.
const SOURCE_CANDIDATES = [new URL('./logger/ck-shim-logger.c', import.meta.url), new URL('../../lib/shim/logger/ck-shim-logger.c', import.meta.url)];

/** Options of {@link buildShimLogger}. */
export interface BuildShimLoggerOptions {
  /** The C compiler. Default `cc`. */
  compiler?: string;
  signal?: AbortSignal;
}

/** The path of containerkit's C logger source (`ck-shim-logger.c`; its header documents the line format). */
export function shimLoggerSource(): string {
  for (const url of SOURCE_CANDIDATES) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw newError('ERR_NOT_FOUND', 'ck-shim-logger.c is not shipped with this build of containerkit');
}

/**
 * Builds the container logger the shims launch for `stdout: 'log'` (a ~1 MiB RSS C program, see
 * `lib/shim/logger/ck-shim-logger.c`) into `<dir>/ck-shim-logger-<source hash>` unless it is there already, and
 * resolves with its path. Built on first use rather than at install, because npm does not run a dependency's
 * install scripts unapproved; the name carries the source's hash, so a new version builds next to the old one
 * (shims still running keep theirs).
 *
 * @throws ERR_TOOL_MISSING without a C compiler; ERR_TOOL_FAILED when it fails; ERR_NOT_FOUND without the source.
 * Rejects with `signal.reason` on abort.
 */
export async function buildShimLogger(dir: string, options: BuildShimLoggerOptions = {}): Promise<string> {
  const { compiler = 'cc', signal } = options;
  signal?.throwIfAborted();
  const source = shimLoggerSource();
  const hash = createHash('sha256')
    .update(await readFile(source))
    .digest('hex')
    .slice(0, 12);
  const target = join(dir, `ck-shim-logger-${hash}`);
  if (existsSync(target)) return target;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    await runTool(compiler, ['-O2', '-o', tmp, source], { signal });
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
  log('built %s', target);
  return target;
}

/**
 * A builder of the logger into `dir` that builds once, on first use: concurrent callers share one build, and a failed
 * build is tried again by the next caller. @internal
 */
export function lazyShimLogger(dir: string): () => Promise<string> {
  let build: Promise<string> | undefined;
  return () => {
    build ??= buildShimLogger(dir).catch((err: unknown) => {
      build = undefined;
      throw err;
    });
    return build;
  };
}
