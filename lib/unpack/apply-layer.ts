import { mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContainerkitError, newError } from '../errors/index.js';
import { splitDigest } from '../oci/digest.js';
import type { LayerCompression } from '../oci/media-types.js';
import { logger, shortId } from '../util/debug.js';
import { DigestCalculator, DigestVerifier } from '../util/digest-stream.js';
import { errnoOf } from '../util/fs-error.js';
import { CHUNK_SIZE, type CompressionOption, createDecompressor, decompressionError, SizeLimiter, sniffCompression } from './decompress.js';
import { type FileTarget, LayerWriter, type SkippedEntry, type WhiteoutFormat } from './layer-writer.js';
import { type TarEntry, TarParser } from './tar-parser.js';

const log = logger('unpack');

/** Files up to this size are gathered in memory and created in parallel; larger ones are streamed. */
const SMALL_FILE_LIMIT = 256 * 1024;

/** Default number of file creations in flight. */
export const DEFAULT_CONCURRENCY = 16;

/** Options of {@link applyLayer}. */
export interface ApplyLayerOptions {
  /** How the blob is compressed. Default `'auto'` (sniffed from its first bytes). */
  compression?: CompressionOption;
  /** The blob's digest (a descriptor's `digest`); verified over the compressed bytes. Default: not verified, only computed. */
  expectedDigest?: string;
  /** The blob's size in bytes (a descriptor's `size`), checked with `expectedDigest`. */
  expectedSize?: number;
  /** The layer's diff_id (the config's `rootfs.diff_ids` entry); verified over the uncompressed tar. Default: computed only. */
  expectedDiffId?: string;
  /** `'apply'` (default) deletes what whiteouts hide; `'overlay'` writes them in overlayfs form (an upper dir). */
  whiteoutFormat?: WhiteoutFormat;
  /** Fails with ERR_LAYER_TOO_LARGE once the uncompressed tar exceeds this many bytes. Default: no limit. */
  maxUncompressedSize?: number;
  /** File creations in flight at once. Default {@link DEFAULT_CONCURRENCY}. */
  concurrency?: number;
  /** Cancels the apply (checked before every entry); rejects with `signal.reason` and cleans up as on failure. */
  signal?: AbortSignal;
}

/** What {@link applyLayer} computed. */
export interface ApplyLayerResult {
  /** Digest of the blob as given (compressed). Equal to `diffId` for an uncompressed layer. */
  digest: string;
  /** Size of the blob as given, in bytes. */
  size: number;
  /** Digest of the uncompressed tar (the config's `diff_id`). */
  diffId: string;
  /** Size of the uncompressed tar, in bytes. */
  uncompressedSize: number;
  /** The compression that was decoded (what `auto` found). */
  compression: LayerCompression;
  /** Entries not applied, with the reason (device nodes when not running as root). */
  skipped: SkippedEntry[];
}

const COMPRESSIONS: ReadonlySet<string> = new Set(['gzip', 'zstd', 'none', 'auto']);

function validate(root: unknown, source: unknown, options: ApplyLayerOptions): void {
  if (typeof root !== 'string' || root === '' || root.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', 'root must be a non-empty path');
  if (typeof source !== 'object' || source === null || typeof (source as Readable)[Symbol.asyncIterator] !== 'function') {
    throw newError('ERR_INVALID_ARGUMENT', 'stream must be a readable stream or an async iterable of Buffers');
  }
  const { compression, expectedDigest, expectedSize, expectedDiffId, whiteoutFormat, maxUncompressedSize, concurrency, signal } = options;
  if (compression !== undefined && !COMPRESSIONS.has(compression)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.compression must be gzip, zstd, none or auto, got ${JSON.stringify(compression)}`);
  }
  if (expectedDigest !== undefined) splitDigest(expectedDigest);
  if (expectedDiffId !== undefined) splitDigest(expectedDiffId);
  if (expectedSize !== undefined && (!Number.isSafeInteger(expectedSize) || expectedSize < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.expectedSize must be a non-negative integer');
  }
  if (expectedSize !== undefined && expectedDigest === undefined) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.expectedSize needs options.expectedDigest');
  }
  if (whiteoutFormat !== undefined && whiteoutFormat !== 'apply' && whiteoutFormat !== 'overlay') {
    throw newError('ERR_INVALID_ARGUMENT', `options.whiteoutFormat must be apply or overlay, got ${JSON.stringify(whiteoutFormat)}`);
  }
  if (maxUncompressedSize !== undefined && (!Number.isSafeInteger(maxUncompressedSize) || maxUncompressedSize < 0)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.maxUncompressedSize must be a non-negative integer');
  }
  if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1024)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer from 1 to 1024');
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw newError('ERR_INVALID_ARGUMENT', 'options.signal must be an AbortSignal');
}

/** Reads the first bytes of `source` and gives them back in front of the rest, so the compression can be sniffed. */
async function peek(source: AsyncIterable<Buffer>): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < 4) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    first.push(next.value);
    length += next.value.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      yield* first;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      if (!done) await iterator.return?.();
    }
  }
  return { head: Buffer.concat(first), stream: rest() };
}

/** Whether `root` is missing (then made) or empty: a fresh unpack, removed again if it fails. */
async function prepareRoot(root: string): Promise<{ realRoot: string; fresh: boolean; created: boolean }> {
  let created = false;
  try {
    const st = await stat(root);
    if (!st.isDirectory()) throw newError('ERR_INVALID_ARGUMENT', `root ${root} is not a directory`, { details: { root } });
  } catch (err) {
    if (err instanceof ContainerkitError) throw err;
    if (errnoOf(err) !== 'ENOENT') throw newError('ERR_IO', `cannot inspect ${root}: ${(err as Error).message}`, { cause: err, details: { root } });
    await mkdir(root, { recursive: true, mode: 0o755 });
    created = true;
  }
  const realRoot = await realpath(root);
  if (realRoot === '/') throw newError('ERR_INVALID_ARGUMENT', 'refusing to unpack a layer into /');
  const fresh = created || (await readdir(realRoot)).length === 0;
  return { realRoot, fresh, created };
}

async function cleanup(realRoot: string, created: boolean): Promise<void> {
  try {
    if (created) {
      await rm(realRoot, { recursive: true, force: true });
      return;
    }
    for (const name of await readdir(realRoot)) await rm(`${realRoot}/${name}`, { recursive: true, force: true });
  } catch (err) {
    log('cleanup of %s failed: %s', realRoot, (err as Error).message);
  }
}

/**
 * Applies one layer blob to the directory `root`, streaming: the compressed bytes are hashed (and verified
 * against `expectedDigest`), decompressed (gzip by zlib, zstd by the `zstd` program), hashed again as the
 * diff_id (verified against `expectedDiffId`), parsed as tar and applied entry by entry. Memory stays bounded
 * whatever the layer's size or compression ratio: every stage has backpressure and at most `concurrency` small
 * files (≤ 256 KiB each) are held at once.
 *
 * Apply semantics, every path resolved as if `root` were `/` (util/safe-path): entry names are cleaned and
 * clamped inside the root (as containerd does); parent directories are made as needed; a new entry replaces
 * (never writes through) an existing file, hardlink or symlink, and a directory replaced by a non-directory is
 * removed with its tree; a directory entry over an existing directory updates its metadata only; hardlinks
 * must name an existing non-directory inside the root; symlink targets are stored as they are; whiteouts and
 * opaque markers apply to the lower layers only and stay inside the root; owners, modes (setuid, setgid,
 * sticky), times (directories last) and `SCHILY.xattr.*` xattrs are kept; device nodes are made when running
 * as root (else skipped, see `skipped`), fifos always.
 *
 * On failure or abort: when `root` did not exist or was empty, everything written is removed again (a `root`
 * this call created is removed itself). When `root` already held a tree (a lower layer, an overlay upper dir),
 * it is left as the failure found it, partly applied: the caller must discard that snapshot, as containerd
 * does with a failed apply.
 *
 * @throws ERR_INVALID_ARGUMENT for bad arguments (before any work); ERR_INVALID_DIGEST for a malformed digest.
 * @throws ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH when the blob or its diff_id is not what was expected.
 * @throws ERR_LAYER_TOO_LARGE past `maxUncompressedSize`; ERR_LAYER_TRUNCATED when the compressed stream or the
 *   tar ends early; ERR_LAYER_CORRUPT for a broken gzip or zstd stream.
 * @throws ERR_INVALID_TAR, ERR_UNSUPPORTED_TAR_ENTRY, ERR_INVALID_WHITEOUT, ERR_PATH_ESCAPE (a hardlink target
 *   above the root) for a layer that is refused.
 * @throws ERR_TOOL_MISSING / ERR_TOOL_FAILED from zstd, mknod, mkfifo or setfattr; ERR_IO for other file-system
 *   failures. Rejects with `signal.reason` on abort.
 */
export async function applyLayer(root: string, stream: Readable | AsyncIterable<Buffer>, options: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
  validate(root, stream, options);
  const { expectedDigest, expectedSize, expectedDiffId, maxUncompressedSize, signal } = options;
  signal?.throwIfAborted();
  const { realRoot, fresh, created } = await prepareRoot(root);
  const writer = new LayerWriter(realRoot, {
    whiteoutFormat: options.whiteoutFormat ?? 'apply',
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    signal,
  });
  let source: Readable | AsyncIterable<Buffer> = stream;
  let compression: LayerCompression;
  try {
    if (options.compression === undefined || options.compression === 'auto') {
      const peeked = await peek(stream);
      compression = sniffCompression(peeked.head);
      source = peeked.stream;
    } else {
      compression = options.compression;
    }
    const blobHash = expectedDigest === undefined ? new DigestCalculator(undefined, { highWaterMark: CHUNK_SIZE }) : verifier(expectedDigest, expectedSize);
    const tarHash = expectedDiffId === undefined ? new DigestCalculator(undefined, { highWaterMark: CHUNK_SIZE }) : verifier(expectedDiffId, undefined);
    const stages: Transform[] = [blobHash];
    if (compression !== 'none') stages.push(createDecompressor(compression) as Transform);
    if (maxUncompressedSize !== undefined) stages.push(new SizeLimiter(maxUncompressedSize));
    stages.push(tarHash);
    log('applying %s layer to %s', compression, realRoot);
    // The tar is consumed from the last stage's readable side rather than by a function inside pipeline():
    // when such a function throws, pipeline() reports the AbortError of the iterator it closed, not the cause.
    const last = stages[stages.length - 1]!;
    const flowing = (pipeline as unknown as (streams: unknown[], opts: { signal?: AbortSignal | undefined }) => Promise<void>)([source, ...stages], { signal });
    const consumed = applyTar(last, writer, signal).catch((err: unknown) => {
      last.destroy(err as Error);
      throw err;
    });
    const [piped, applied] = await Promise.allSettled([flowing, consumed]);
    if (applied.status === 'rejected' && (applied.reason instanceof ContainerkitError || piped.status === 'fulfilled')) throw applied.reason;
    if (piped.status === 'rejected') throw piped.reason;
    const uncompressedSize = (applied as PromiseFulfilledResult<number>).value;
    const digest = blobHash instanceof DigestCalculator ? blobHash.digest() : expectedDigest!;
    const size = blobHash instanceof DigestCalculator ? blobHash.size : blobHash.bytesReceived;
    const diffId = tarHash instanceof DigestCalculator ? tarHash.digest() : expectedDiffId!;
    log('applied %s (diff_id %s) to %s', shortId(digest), shortId(diffId), realRoot);
    return { digest, size, diffId, uncompressedSize, compression, skipped: writer.skipped };
  } catch (err) {
    await writer.settle();
    if (fresh) await cleanup(realRoot, created);
    if (signal?.aborted) throw signal.reason;
    throw decompressionError(err);
  }
}

function verifier(digest: string, size: number | undefined): DigestVerifier {
  const { algorithm, hex } = splitDigest(digest);
  return new DigestVerifier({ algorithm, hex, ...(size === undefined ? {} : { size }) }, { highWaterMark: CHUNK_SIZE });
}

/** Parses the tar and hands its entries to the writer; returns the tar's size. */
async function applyTar(tar: AsyncIterable<Buffer>, writer: LayerWriter, signal: AbortSignal | undefined): Promise<number> {
  const parser = new TarParser();
  let entry: TarEntry | undefined;
  let target: FileTarget | undefined;
  let collected: Buffer[] = [];
  try {
    for await (const chunk of tar) {
      for (const event of parser.push(chunk)) {
        if (event.kind === 'entry') {
          signal?.throwIfAborted();
          entry = event.entry;
          collected = [];
          target = await writer.begin(entry, SMALL_FILE_LIMIT);
        } else if (event.kind === 'data') {
          if (target?.kind === 'collect') collected.push(event.data);
          else if (target?.kind === 'stream') await target.write(event.data);
        } else {
          if (target?.kind === 'collect') {
            // A copy: the data are slices of a 1 MiB chunk, which must not stay pinned while the write waits.
            await writer.writeFile(target.rel, entry!, collected.length === 0 ? Buffer.alloc(0) : Buffer.concat(collected));
          } else if (target?.kind === 'stream') {
            const open = target;
            target = undefined;
            await open.close();
          }
          target = undefined;
          collected = [];
        }
      }
    }
    parser.finish();
    await writer.finish();
    return parser.position;
  } catch (err) {
    if (target?.kind === 'stream') await target.abort();
    throw err;
  }
}
