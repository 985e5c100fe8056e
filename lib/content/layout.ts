/**
 * The on-disk shape of an OCI image layout (image-spec `image-layout.md`) and the paths the local store uses in
 * it: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`, plus `ingest/<sha256 of ref>/` for writes in progress.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { type Digest, parseDigest, splitDigest } from '../oci/digest.js';
import { errnoOf, fsError } from '../util/fs-error.js';
import { makeDirs } from '../util/make-dirs.js';

/** The `imageLayoutVersion` this store writes. */
export const IMAGE_LAYOUT_VERSION = '1.0.0';
/** The media type of the layout's `index.json`. */
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

/** Path of the blob `digest` under `root`, after validating the digest (so no input ever escapes `blobs/`). @throws ERR_INVALID_DIGEST, ERR_UNSUPPORTED_DIGEST_ALGORITHM. */
export function blobPath(root: string, digest: Digest | string): string {
  const { algorithm, hex } = splitDigest(parseDigest(digest));
  return join(root, 'blobs', algorithm, hex);
}

/** The directory of ingest `ref`: named by the sha256 of the ref, so any string is a safe key. */
export function ingestDir(root: string, ref: string): string {
  return join(root, 'ingest', createHash('sha256').update(ref).digest('hex'));
}

/** Creates `path` holding `content` unless it exists; never replaces it, never leaves it half-written. */
async function createIfMissing(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: 0o644, flush: true });
    await link(tmp, path);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw fsError(err, 'create', path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Makes `root` a valid OCI image layout if it is not one yet (`oci-layout`, an empty `index.json`, `blobs/`),
 * and checks the `oci-layout` file of an existing one. Safe to run from several processes at once.
 * @throws ERR_INVALID_LAYOUT for an unreadable `oci-layout`; ERR_IO.
 */
export async function initLayout(root: string): Promise<void> {
  // Not mkdir's own recursive mode: it never returns for a root under /proc (see makeDirs).
  await makeDirs(join(root, 'blobs', 'sha256'));
  await makeDirs(join(root, 'ingest'));
  await createIfMissing(join(root, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION })}\n`);
  await createIfMissing(join(root, 'index.json'), `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [] })}\n`);
  const path = join(root, 'oci-layout');
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(path, 'utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    throw newError('ERR_INVALID_LAYOUT', `${path} is not valid JSON`, { cause: err, details: { path } });
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw newError('ERR_INVALID_LAYOUT', `${path} has unsupported imageLayoutVersion ${JSON.stringify(version)}`, { details: { path } });
  }
}
