/**
 * Import of image tarballs, streaming: OCI archives (an image layout as a tar, with or without a docker
 * `manifest.json`) and `docker save` archives, both the current layout-based one and the legacy one
 * (`<id>.json` configs, `<id>/layer.tar` layers). Every blob is verified as it is written; a path under `blobs/`
 * must hash to its name. Archive paths are only used as keys, never as filesystem paths.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type Extract, extract as tarExtract } from 'tar-stream';
import type { ContentStore, LocalContentStore } from '../content/index.js';
import { AlreadyExistsError, ContainerkitError, isAbortError, newError } from '../errors/index.js';
import { ANNOTATIONS, type Descriptor, type Digest, isDigest, normalizeReference, parseImageConfig, parseIndex } from '../oci/index.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { digestBuffer } from '../util/index.js';
import { LayoutIndex } from './image-index.js';
import { imageNameFor } from './import-layout.js';

/** Options of {@link importArchive}. */
export interface ImportArchiveOptions {
  /** Repository for entries named by a bare tag (`--name`). */
  name?: string;
  signal?: AbortSignal;
}

/** What {@link importArchive} recorded. */
export interface ImportArchiveResult {
  imported: Array<{ name: string; digest: string }>;
  /** Entries kept by digest only. */
  unnamed: Array<{ digest: string; refName?: string }>;
}

/**
 * Where an archive's content and names go: a content store, and callbacks that record an image under a name or
 * keep an unnamed root. {@link importArchive} uses the store's own layout; `containerdImport` uses containerd.
 */
export interface ArchiveSink {
  readonly content: ContentStore;
  /** Records `target` (an index or manifest) as image `name`. */
  name(name: string, target: Descriptor): Promise<void>;
  /** Keeps `target`, which has no usable name. */
  keep(target: Descriptor): Promise<void>;
}

const META = new Set(['index.json', 'manifest.json', 'repositories', 'oci-layout']);
const MAX_META = 4 * 1024 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

interface Stored {
  digest: Digest;
  size: number;
  mediaTypeHint: 'gzip' | 'zstd' | 'tar';
}

function normalizePath(name: string): string {
  return name.replace(/^\.\//, '').replace(/\/+$/, '');
}

async function storeEntry(store: ContentStore, path: string, body: AsyncIterable<Buffer>, signal?: AbortSignal): Promise<Stored> {
  const m = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(path);
  const expected = m && isDigest(`${m[1]}:${m[2]}`) ? (`${m[1]}:${m[2]}` as Digest) : undefined;
  const writer = await store.writer({ ref: `load-${randomBytes(8).toString('hex')}`, signal });
  let size = 0;
  let head: Buffer | undefined;
  // The ingest's ref is random, so nothing would ever resume it: a failed entry (a truncated archive, a bad
  // digest, an abort) removes it.
  let stored = false;
  try {
    for await (const chunk of body) {
      head ??= chunk.subarray(0, 4);
      await writer.write(chunk, { signal });
      size += chunk.length;
    }
    let digest: Digest;
    try {
      // Checked here too, so every store reports a bad blob as ERR_DIGEST_MISMATCH (containerd would say
      // FailedPrecondition).
      const actual = expected?.startsWith('sha256:') ? writer.digest() : expected;
      if (actual !== expected) {
        throw newError('ERR_DIGEST_MISMATCH', `${path} in the archive hashes to ${actual}`, { details: { expected, actual } });
      }
      digest = await writer.commit(0, expected, { signal });
    } catch (err) {
      // Either store's "already there" (ERR_ALREADY_EXISTS, ERR_CONTAINERD_ALREADY_EXISTS) is an AlreadyExistsError.
      if (!(err instanceof AlreadyExistsError)) throw err;
      digest = (err as { details?: { digest?: Digest } }).details?.digest ?? expected ?? writer.digest();
    }
    stored = true;
    const starts = (magic: number[]): boolean => head !== undefined && magic.every((b, i) => head![i] === b);
    return { digest, size, mediaTypeHint: starts(GZIP_MAGIC) ? 'gzip' : starts(ZSTD_MAGIC) ? 'zstd' : 'tar' };
  } finally {
    await writer.close();
    if (!stored) await store.abort(writer.ref).catch(() => undefined);
  }
}

async function writeJsonBlob(store: ContentStore, mediaType: string, value: unknown, signal?: AbortSignal): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${digestBuffer(bytes).hex}` as Digest;
  const writer = await store
    .writer({ ref: `load-${digest}`, expected: { digest, size: bytes.length }, lockTimeoutMs: Infinity, signal })
    .catch((err: unknown) => {
      if (err instanceof AlreadyExistsError) return undefined;
      throw err;
    });
  if (writer) {
    await writer.truncate(0);
    await writer.write(bytes);
    await writer.commit(bytes.length, digest).catch((err: unknown) => {
      if (!(err instanceof AlreadyExistsError)) throw err;
    });
  }
  return { mediaType, digest, size: bytes.length };
}

// Reads every entry: blobs into the store, metadata files into `meta`.
async function readEntries(extract: Extract, store: ContentStore, files: Map<string, Stored>, meta: Map<string, Buffer>, signal?: AbortSignal): Promise<void> {
  for await (const entry of extract) {
    signal?.throwIfAborted();
    const path = normalizePath(entry.header.name);
    if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
      entry.resume();
      continue;
    }
    if (META.has(path)) {
      if ((entry.header.size ?? 0) > MAX_META) throw newError('ERR_INVALID_ARGUMENT', `${path} in the archive is larger than ${MAX_META} bytes`);
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      meta.set(path, Buffer.concat(chunks));
      continue;
    }
    files.set(path, await storeEntry(store, path, entry as AsyncIterable<Buffer>, signal));
  }
}

// docker's manifest.json: a list of images. Its fields are checked where they are used.
function manifestList<T>(bytes: Buffer): T[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw newError('ERR_INVALID_MANIFEST', 'manifest.json in the archive is not valid JSON', { cause: err });
  }
  if (!Array.isArray(doc)) throw newError('ERR_INVALID_MANIFEST', 'manifest.json in the archive is not a list');
  return doc as T[];
}

// tar-stream's and the input's failures, coded: not a tar (or cut short) is ERR_INVALID_TAR, a failed read ERR_IO.
function archiveError(err: unknown): unknown {
  if (err instanceof ContainerkitError || isAbortError(err)) return err;
  if (errnoOf(err) !== undefined) return fsError(err, 'read', 'the archive');
  return newError('ERR_INVALID_TAR', `the archive is not a valid tar: ${(err as Error).message}`, { cause: err });
}

/**
 * Reads an image tarball from `input` into `store` and names its images (see the module comment).
 * A failed import leaves no ingest behind (blobs already stored stay until GC).
 * @throws ERR_INVALID_TAR for input that is not a tar or ends early; ERR_INVALID_MANIFEST for a `manifest.json` that is
 *   not a JSON list; ERR_IO when the input fails; `signal.reason` on abort, also while waiting for input;
 *   ERR_DIGEST_MISMATCH (a `blobs/` entry that does not hash to its name); ERR_INVALID_ARGUMENT for an archive
 *   with neither `index.json` nor `manifest.json`, or metadata above 4 MiB; ERR_NOT_FOUND for content a manifest.json
 *   names but the archive lacks; the parsers' codes.
 */
export async function importArchive(store: LocalContentStore, input: Readable, options: ImportArchiveOptions = {}): Promise<ImportArchiveResult> {
  const index = new LayoutIndex(store.root);
  const { signal } = options;
  return readArchive(
    {
      content: store,
      name: (name, target) => index.put(name, target, { signal }),
      keep: (target) => index.update((m) => (m.some((x) => x.digest === target.digest) ? m : [...m, target]), { signal }),
    },
    input,
    options,
  );
}

/**
 * Reads an image tarball from `input` into `sink.content` and hands each image to `sink.name` or `sink.keep`.
 * Same errors as {@link importArchive}.
 */
export async function readArchive(sink: ArchiveSink, input: Readable, options: ImportArchiveOptions = {}): Promise<ImportArchiveResult> {
  const store = sink.content;
  const { signal } = options;
  const repo = options.name === undefined ? undefined : normalizeReference(options.name);
  signal?.throwIfAborted();
  const files = new Map<string, Stored>();
  const meta = new Map<string, Buffer>();
  const extract = tarExtract();
  input.pipe(extract);
  input.once('error', (err) => extract.destroy(err));
  // A read that waits on a silent input (a pipe, stdin) must end on abort too, not only between entries.
  const onAbort = (): void => void extract.destroy(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await readEntries(extract, store, files, meta, signal);
  } catch (err) {
    // Both ends go (streamx streams, tar-stream's own, have no unpipe): an input left flowing would keep the
    // process reading into nothing.
    extract.destroy();
    input.destroy();
    // Destroying the extract on abort fails the entry being read with "stream destroyed": the abort is the cause.
    if (signal?.aborted) throw signal.reason;
    throw archiveError(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const result: ImportArchiveResult = { imported: [], unnamed: [] };
  const indexJson = meta.get('index.json');
  const manifestJson = meta.get('manifest.json');
  if (indexJson !== undefined) {
    const parsed = parseIndex(indexJson, { strictMediaTypes: false });
    const docker = manifestJson ? manifestList<{ RepoTags?: string[] }>(manifestJson) : [];
    for (const entry of parsed.manifests) {
      await store.info(entry.digest, { signal });
      const refName = entry.annotations?.[ANNOTATIONS.CONTAINERD_IMAGE_NAME] ?? entry.annotations?.[ANNOTATIONS.REF_NAME];
      let full = imageNameFor(refName, repo);
      if (full === undefined && parsed.manifests.length === 1 && docker.length === 1 && docker[0]!.RepoTags?.[0])
        full = imageNameFor(docker[0]!.RepoTags[0], repo);
      const { annotations: _drop, ...plain } = entry;
      if (full === undefined) {
        await sink.keep(plain);
        result.unnamed.push({ digest: entry.digest, ...(refName !== undefined ? { refName } : {}) });
      } else {
        await sink.name(full, plain);
        result.imported.push({ name: full, digest: entry.digest });
      }
    }
    return result;
  }
  if (manifestJson === undefined) throw newError('ERR_INVALID_ARGUMENT', 'the archive has neither index.json nor manifest.json');
  // Legacy docker save: build a Docker schema 2 manifest per image from manifest.json.
  const items = manifestList<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>(manifestJson);
  for (const item of items) {
    const need = (path: string): Stored => {
      const f = files.get(normalizePath(path));
      if (f === undefined) throw newError('ERR_NOT_FOUND', `manifest.json names ${path}, which the archive lacks`);
      return f;
    };
    const config = need(item.Config);
    const configDesc: Descriptor = { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config.digest, size: config.size };
    const reader = await store.readerAt(config.digest, { signal });
    parseImageConfig(await reader.read(0, reader.size), { expected: configDesc });
    await reader.close();
    const layers = item.Layers.map((p) => {
      const f = need(p);
      const mediaType =
        f.mediaTypeHint === 'gzip'
          ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
          : f.mediaTypeHint === 'zstd'
            ? 'application/vnd.oci.image.layer.v1.tar+zstd'
            : 'application/vnd.docker.image.rootfs.diff.tar';
      return { mediaType, digest: f.digest, size: f.size };
    });
    const manifestType = 'application/vnd.docker.distribution.manifest.v2+json';
    const root = await writeJsonBlob(store, manifestType, { schemaVersion: 2, mediaType: manifestType, config: configDesc, layers }, signal);
    const names = (item.RepoTags ?? []).map((t) => imageNameFor(t, repo)).filter((n): n is string => n !== undefined);
    if (names.length === 0) {
      await sink.keep(root);
      result.unnamed.push({ digest: root.digest });
    }
    for (const name of names) {
      await sink.name(name, root);
      result.imported.push({ name, digest: root.digest });
    }
  }
  return result;
}
