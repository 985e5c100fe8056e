// Shared fixtures of the oci parser tests: digests, descriptors, deep edits of JSON documents, error checks.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';

/** The sha256 digest of `seed`. */
export function sha(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

/** A descriptor of made-up content. */
export function desc(mediaType: string, seed: string, size = 100, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType, digest: sha(seed), size, ...extra };
}

/** Marks a key to delete in {@link edit}. */
export const DELETE = Symbol('delete');

/** A deep copy of `doc` with the value at `path` replaced (or deleted with {@link DELETE}). */
export function edit<T>(doc: T, path: (string | number)[], value: unknown): T {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy as T;
}

/** JSON text of a document; strings and byte arrays are passed through as raw bodies. */
export function body(doc: unknown): string | Uint8Array {
  return typeof doc === 'string' || doc instanceof Uint8Array ? doc : JSON.stringify(doc);
}

/** Runs `fn`, expects a ContainerkitError with `code` (and `details.field` when given), and returns it. */
export function expectError(fn: () => unknown, code: string, field?: string): ContainerkitError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an error').to.be.instanceOf(ContainerkitError);
  const err = caught as ContainerkitError;
  expect(err.code, err.message).to.equal(code);
  if (field !== undefined) {
    expect(err.details['field'], err.message).to.equal(field);
    expect(err.message).to.include(field);
  }
  return err;
}
