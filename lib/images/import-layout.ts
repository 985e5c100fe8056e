/**
 * Copies the images of another OCI image layout (written by skopeo, umoci, ctr…) into a store. Entries named with
 * a full reference keep it; a bare tag (`latest`, as skopeo and umoci write) becomes `<name>:<tag>`; an entry with
 * no usable name is kept by digest (its content copied, recorded without a name) and reported.
 * @module
 */
import { LocalContentStore } from '../content/index.js';
import { AlreadyExistsError, newError } from '../errors/index.js';
import { ANNOTATIONS, type Descriptor, normalizeReference, type Reference, withTag } from '../oci/index.js';
import { childrenOf } from './children.js';
import { walk } from './handlers.js';
import { isCanonicalName, LayoutIndex } from './image-index.js';

/** Options of {@link importLayout}. */
export interface ImportLayoutOptions {
  /** The repository a bare tag belongs to (`--name`), e.g. `docker.io/library/busybox`. */
  name?: string;
  signal?: AbortSignal;
}

/** What {@link importLayout} did. */
export interface ImportLayoutResult {
  /** Names recorded. */
  imported: Array<{ name: string; digest: string }>;
  /** Entries kept by digest only, with the name they carried (if any). */
  unnamed: Array<{ digest: string; refName?: string }>;
}

/**
 * The full image name an imported entry gets: a canonical `ref.name` as is; a bare tag as `<repo>:<tag>` when a
 * repository is given; a familiar name with a repository part (`busybox:1`, `user/app`) normalised; otherwise none.
 */
export function imageNameFor(refName: string | undefined, repo: Reference | undefined): string | undefined {
  if (refName === undefined) return undefined;
  if (isCanonicalName(refName)) return refName;
  if (/^[\w][\w.-]{0,127}$/.test(refName)) return repo === undefined ? undefined : withTag(repo, refName).toString();
  if (refName.includes('@')) return undefined;
  try {
    return normalizeReference(refName).toString();
  } catch {
    return undefined;
  }
}

async function copyBlob(from: LocalContentStore, to: LocalContentStore, d: Descriptor, signal?: AbortSignal): Promise<void> {
  if (
    await to.info(d.digest, { signal }).then(
      () => true,
      () => false,
    )
  )
    return;
  const reader = await from.readerAt(d.digest, { signal });
  try {
    const writer = await to
      .writer({ ref: `import-${d.digest}`, expected: { digest: d.digest, size: d.size }, lockTimeoutMs: Infinity, signal })
      .catch((err: unknown) => {
        if (err instanceof AlreadyExistsError) return undefined;
        throw err;
      });
    if (writer === undefined) return;
    try {
      await writer.truncate(0);
      for await (const chunk of reader.stream(0, { signal }) as AsyncIterable<Buffer>) await writer.write(chunk, { signal });
      await writer.commit(d.size, d.digest, { signal }).catch((err: unknown) => {
        if (!(err instanceof AlreadyExistsError)) throw err;
      });
    } finally {
      await writer.close();
    }
  } finally {
    await reader.close();
  }
}

/**
 * Imports every entry of the layout at `source` into `store` (content verified on the way in).
 * @throws ERR_INVALID_LAYOUT; ERR_NOT_FOUND for content the source lacks; ERR_DIGEST_MISMATCH; ERR_INVALID_REFERENCE
 *   for a bad `options.name`.
 */
export async function importLayout(store: LocalContentStore, source: string, options: ImportLayoutOptions = {}): Promise<ImportLayoutResult> {
  const { name, signal } = options;
  const repo = name === undefined ? undefined : normalizeReference(name);
  const from = await LocalContentStore.open(source, { signal });
  const entries = (await new LayoutIndex(source).read({ signal })).manifests;
  const target = new LayoutIndex(store.root);
  const result: ImportLayoutResult = { imported: [], unnamed: [] };
  for (const entry of entries) {
    await walk(
      async (d, ctx) => {
        await copyBlob(from, store, d, ctx.signal);
        return childrenOf(store, d, ctx);
      },
      [entry],
      { signal },
    );
    const refName = entry.annotations?.[ANNOTATIONS.CONTAINERD_IMAGE_NAME] ?? entry.annotations?.[ANNOTATIONS.REF_NAME];
    const full = imageNameFor(refName, repo);
    const { annotations: _drop, ...plain } = entry;
    if (full === undefined) {
      await target.update(
        (manifests) =>
          manifests.some((m) => m.digest === entry.digest && m.annotations?.[ANNOTATIONS.REF_NAME] === undefined) ? manifests : [...manifests, plain],
        { signal },
      );
      result.unnamed.push({ digest: entry.digest, ...(refName !== undefined ? { refName } : {}) });
    } else {
      await target.put(full, plain, { signal });
      result.imported.push({ name: full, digest: entry.digest });
    }
  }
  if (entries.length === 0) throw newError('ERR_NOT_FOUND', `layout ${source} has no images`, { details: { path: source } });
  return result;
}
