/**
 * The role interfaces of the registry component, in the spirit of containerd's remotes: a {@link Resolver} turns a
 * reference into a descriptor, a {@link Fetcher} reads content by descriptor, a {@link Pusher} writes it. Other
 * components `import type` these (ARCHITECTURE.md allows type imports of a sibling's `types.ts`), so they hold no
 * implementation and import only types.
 * @module
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';

/**
 * Registry authentication as RegistryClient consumes it (implemented in `lib/registry/auth/`). Declared here
 * structurally so the core does not depend on the auth implementation; any object with these two methods fits.
 */
export interface RegistryAuth {
  /** The Authorization header value to send to `host` for these scopes, from cache; undefined if none known yet. */
  authorization(host: string, scopes: readonly string[], options?: { signal?: AbortSignal }): Promise<string | undefined>;
  /**
   * Called on a 401 with the response's WWW-Authenticate header(s). Returns the new Authorization value, or undefined
   * when there is nothing new to try (the caller then fails with ERR_REGISTRY_UNAUTHORIZED). Never called twice for
   * one request. `options.sent` is the Authorization value the refused request carried, so that an implementation
   * can tell "that credential was refused" from "a concurrent request already refreshed it".
   */
  challenge(
    host: string,
    wwwAuthenticate: string | string[] | undefined,
    scopes: readonly string[],
    options?: { signal?: AbortSignal; sent?: string },
  ): Promise<string | undefined>;
}

/** Options every registry call accepts. */
export interface CallOptions {
  /** Cancels the call; it rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What resolving a reference gives: the normalised name (`host/path:tag` or `@digest`) and the root descriptor. */
export interface Resolved {
  /** The normalised reference that was resolved, e.g. `docker.io/library/busybox:latest`. */
  name: string;
  /** The manifest or index the reference points at (media type, digest, size). */
  descriptor: Descriptor;
}

/** Turns references into descriptors, and hands out a fetcher or pusher for a repository. */
export interface Resolver {
  /** Resolves `ref` (tag or digest) to the descriptor of its manifest or index. */
  resolve(ref: string, options?: CallOptions): Promise<Resolved>;
  /** A {@link Fetcher} for the repository of `ref` (tag and digest ignored). */
  fetcher(ref: string): Fetcher;
  /** A {@link Pusher} for `ref`'s repository; a manifest pushed with `{ root: true }` is stored under `ref`'s tag. */
  pusher(ref: string): Pusher;
}

/** Options of {@link Fetcher.fetch}. */
export interface FetchOptions extends CallOptions {
  /** Bytes already held by the caller: the stream starts at this offset (a `Range` request). Default 0. */
  offset?: number;
  /**
   * What the stream checks: `digest` (default) the digest and the size; `size` only the byte count, for a caller
   * whose sink hashes every byte itself and refuses a mismatch before the blob exists (containerd's content store at
   * commit, as when ctr pulls), so the bytes are not hashed twice on one machine. A Fetcher may verify more.
   */
  verify?: 'digest' | 'size';
}

/** Reads content by descriptor from one repository. */
export interface Fetcher {
  /**
   * A stream of the content's bytes, verified byte by byte against `descriptor.digest` and `descriptor.size` (only
   * the size with `verify: 'size'`): the stream errors (ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH) instead of ending
   * when the bytes are wrong.
   */
  fetch(descriptor: Descriptor, options?: FetchOptions): Promise<Readable>;
}

/** Content to push: bytes, or a function opening a fresh stream of them (called at most once per attempt). */
export type PushContent = Uint8Array | Readable | (() => Readable | Promise<Readable>);

/** Options of {@link Pusher.push}. */
export interface PushOptions extends CallOptions {
  /** Try a cross-repository mount from this repository path (same registry) before uploading a blob. */
  mountFrom?: string;
  /** This manifest or index is the image's root: PUT it under the pusher's tag (when its reference has one) instead of by digest. */
  root?: boolean;
}

/** Writes content by descriptor into one repository. */
export interface Pusher {
  /**
   * Pushes `content` as `descriptor`: blobs are skipped when they exist, manifests and indexes are PUT by digest
   * (or by the pusher's tag with `root`). Push children before the manifests that refer to them. The content is
   * verified against the descriptor as it is sent (ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH).
   */
  push(descriptor: Descriptor, content: PushContent, options?: PushOptions): Promise<void>;
}

/** Reads local content by descriptor, for a whole-image push (a content store or an OCI layout fits). */
export interface ContentSource {
  /** A stream of the blob's bytes. */
  read(descriptor: Descriptor, options?: CallOptions): Promise<Readable> | Readable;
}
