/**
 * The image names of a layout: entries of its `index.json` named by the `org.opencontainers.image.ref.name`
 * annotation, which holds the full normalised reference (`docker.io/library/busybox:latest`). Updates are
 * read-modify-write under a lock file with stale-lock detection and land atomically (temp file, fsync, rename).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OCI_INDEX_MEDIA_TYPE } from '../content/index.js';
import { newError } from '../errors/index.js';
import { ANNOTATIONS, type Descriptor, type ImageIndex, parseCanonicalReference, parseIndex } from '../oci/index.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { withLock } from '../util/lock.js';

/** One named image: its normalised reference and the manifest or index it points at. */
export interface NamedImage {
  name: string;
  target: Descriptor;
}

/** Options of the index calls. */
export interface IndexCallOptions {
  signal?: AbortSignal;
}

/** Whether `name` is a full normalised reference (the only names this store writes). */
export function isCanonicalName(name: string): boolean {
  try {
    const ref = parseCanonicalReference(name);
    return ref.domain !== '' && (ref.tag !== undefined || ref.digest !== undefined);
  } catch {
    return false;
  }
}

/** JSON with object keys sorted, so equal descriptors compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Reads and updates the names in a layout's `index.json`. */
export class LayoutIndex {
  readonly path: string;
  readonly lockPath: string;

  constructor(readonly root: string) {
    this.path = join(root, 'index.json');
    this.lockPath = join(root, 'index.json.lock');
  }

  /**
   * The parsed `index.json` (strict parser: every digest validated).
   * @throws ERR_INVALID_LAYOUT when it is missing or invalid.
   */
  async read(options: IndexCallOptions = {}): Promise<ImageIndex> {
    options.signal?.throwIfAborted();
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw newError('ERR_INVALID_LAYOUT', `${this.path} is missing`, { cause: err, details: { path: this.path } });
      throw fsError(err, 'read', this.path);
    }
    try {
      return parseIndex(bytes, { strictMediaTypes: false });
    } catch (err) {
      throw newError('ERR_INVALID_LAYOUT', `${this.path} is not a valid image index: ${(err as Error).message}`, { cause: err, details: { path: this.path } });
    }
  }

  /** Every entry with a canonical name, in index order. */
  async list(options: IndexCallOptions = {}): Promise<NamedImage[]> {
    const index = await this.read(options);
    return index.manifests.flatMap((d) => {
      const name = d.annotations?.[ANNOTATIONS.REF_NAME];
      return name !== undefined && isCanonicalName(name) ? [{ name, target: d }] : [];
    });
  }

  /** Entries whose name is missing or not a canonical reference (e.g. a bare tag written by skopeo). */
  async unnamed(options: IndexCallOptions = {}): Promise<Descriptor[]> {
    const index = await this.read(options);
    return index.manifests.filter((d) => {
      const name = d.annotations?.[ANNOTATIONS.REF_NAME];
      return name === undefined || !isCanonicalName(name);
    });
  }

  /** The record named `name`, or undefined. */
  async get(name: string, options: IndexCallOptions = {}): Promise<NamedImage | undefined> {
    return (await this.list(options)).find((r) => r.name === name);
  }

  /**
   * Read-modify-write of the index's `manifests` under the index lock. `fn` returns the new list.
   * @throws ERR_LOCK_TIMEOUT after 30 s of a live holder; the errors of {@link LayoutIndex.read}; ERR_IO.
   */
  async update(fn: (manifests: Descriptor[]) => Descriptor[], options: IndexCallOptions = {}): Promise<void> {
    await withLock(
      this.lockPath,
      async () => {
        const index = await this.read(options);
        const manifests = fn([...index.manifests]);
        const next: ImageIndex = { ...index, schemaVersion: 2, mediaType: index.mediaType ?? OCI_INDEX_MEDIA_TYPE, manifests };
        await writeJsonAtomic(this.path, next, { space: 0, signal: options.signal });
      },
      { signal: options.signal },
    );
  }

  /**
   * Names `target` as `name` (replacing what the name pointed at); writes nothing when the name already points at
   * this very entry. @throws ERR_INVALID_REFERENCE for a non-canonical name.
   */
  async put(name: string, target: Descriptor, options: IndexCallOptions = {}): Promise<void> {
    if (!isCanonicalName(name)) throw newError('ERR_INVALID_REFERENCE', `${JSON.stringify(name)} is not a full normalised reference`);
    const { mediaType, digest, size } = target;
    const entry: Descriptor = {
      mediaType,
      digest,
      size,
      ...(target.platform ? { platform: target.platform } : {}),
      annotations: { ...target.annotations, [ANNOTATIONS.REF_NAME]: name },
    };
    // A name that already points at exactly this entry (a re-pull) needs no lock and no fsync'd rewrite.
    const current = (await this.read(options)).manifests.filter((d) => d.annotations?.[ANNOTATIONS.REF_NAME] === name);
    if (current.length === 1 && canonicalJson(current[0]) === canonicalJson(entry)) return;
    await this.update((manifests) => [...manifests.filter((d) => d.annotations?.[ANNOTATIONS.REF_NAME] !== name), entry], options);
  }

  /** Removes the name; true when it existed. */
  async remove(name: string, options: IndexCallOptions = {}): Promise<boolean> {
    let found = false;
    await this.update((manifests) => {
      const kept = manifests.filter((d) => d.annotations?.[ANNOTATIONS.REF_NAME] !== name);
      found = kept.length !== manifests.length;
      return kept;
    }, options);
    return found;
  }
}
