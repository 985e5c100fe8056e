import { createHash } from 'node:crypto';
import { newError } from '../errors/index.js';
import { type Digest, parseDigest } from './digest.js';

/**
 * The chain IDs of a layer stack, one per prefix of `diffIds` (the uncompressed layer digests of an image config's
 * `rootfs.diff_ids`), as the OCI image spec defines them: chainID(0) = diffID(0) and
 * chainID(n) = sha256(chainID(n-1) + " " + diffID(n)). Snapshotters name committed layer snapshots by them.
 * An empty list gives an empty list. Pure.
 *
 * @throws ERR_INVALID_ARGUMENT when `diffIds` is not an array; ERR_INVALID_DIGEST (or
 *   ERR_UNSUPPORTED_DIGEST_ALGORITHM) for a malformed diff ID.
 */
export function chainIds(diffIds: readonly string[]): Digest[] {
  if (!Array.isArray(diffIds)) throw newError('ERR_INVALID_ARGUMENT', 'diffIds must be an array of digests');
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const digest = parseDigest(diffId);
    const prev = out.at(-1);
    out.push(prev === undefined ? digest : parseDigest(`sha256:${createHash('sha256').update(`${prev} ${digest}`).digest('hex')}`));
  }
  return out;
}

/**
 * The chain ID of the whole stack: the last of {@link chainIds}.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty list or a non-array; the digest errors of {@link chainIds}.
 */
export function chainId(diffIds: readonly string[]): Digest {
  const top = chainIds(diffIds).at(-1);
  if (top === undefined) throw newError('ERR_INVALID_ARGUMENT', 'diffIds must be a non-empty array');
  return top;
}
