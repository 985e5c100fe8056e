import { newError } from '../errors/index.js';

/** A validated content digest, `<algorithm>:<lower-case hex>`. Only {@link parseDigest} makes one. */
export type Digest = string & { readonly __digest: unique symbol };

/** The digest algorithms containerkit accepts, with the hex length of each. */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;

/** A supported digest algorithm. */
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

/** A digest split into its parts. */
export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
const LOWER_HEX = /^[0-9a-f]+$/;

/**
 * Validates a digest string and returns it branded. The check is strict because digests become file names
 * (`blobs/sha256/<hex>`): only sha256 and sha512, exactly 64 or 128 lower-case hex characters, nothing else.
 *
 * @throws ERR_INVALID_DIGEST when the string is not a well-formed digest.
 * @throws ERR_UNSUPPORTED_DIGEST_ALGORITHM when the algorithm is well-formed but not sha256 or sha512.
 */
export function parseDigest(value: unknown): Digest {
  splitDigest(value);
  return value as Digest;
}

/** Like {@link parseDigest}, returning the algorithm and hex separately. */
export function splitDigest(value: unknown): ParsedDigest {
  if (typeof value !== 'string') {
    throw newError('ERR_INVALID_DIGEST', `digest must be a string, got ${typeof value}`);
  }
  const shown = JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  const match = SHAPE.exec(value);
  if (!match) throw newError('ERR_INVALID_DIGEST', `invalid digest ${shown}: expected <algorithm>:<hex>`);
  const [, algorithm, hex] = match as unknown as [string, string, string];
  if (!Object.hasOwn(DIGEST_ALGORITHMS, algorithm)) {
    throw newError('ERR_UNSUPPORTED_DIGEST_ALGORITHM', `unsupported digest algorithm "${algorithm}" in ${shown}: only sha256 and sha512`);
  }
  const expected = DIGEST_ALGORITHMS[algorithm as DigestAlgorithm];
  if (hex.length !== expected || !LOWER_HEX.test(hex)) {
    throw newError('ERR_INVALID_DIGEST', `invalid digest ${shown}: ${algorithm} needs exactly ${expected} lower-case hex characters`);
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

/** Whether `value` is a valid, supported digest. */
export function isDigest(value: unknown): value is Digest {
  try {
    splitDigest(value);
    return true;
  } catch {
    return false;
  }
}

/** Builds a digest from an algorithm and a hex string (validated). */
export function formatDigest(algorithm: DigestAlgorithm, hex: string): Digest {
  return parseDigest(`${algorithm}:${hex}`);
}
