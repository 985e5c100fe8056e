import { Readable } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { newError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, parseDigest } from '../oci/digest.js';
import type { ImageConfig } from '../oci/image-config.js';
import { MAX_IMAGE_CONFIG_SIZE, parseImageConfig } from '../oci/parse.js';
import type { Reference } from '../oci/reference.js';
import { eventIterator } from '../util/event-iterator.js';
import type { ClientContext } from './context.js';
import { parseMirrors, parseRef, type Repository, repoPath, repositoryScope, upstreamEndpoint } from './endpoints.js';
import { type FetchBlobOptions, fetchBlob } from './fetch-blob.js';
import { type FetchedManifest, fetchManifest } from './fetch-manifest.js';
import { discard, HttpTransport } from './http.js';
import { type RegistryClientOptions, resolveClientOptions } from './options.js';
import { paginate } from './pagination.js';
import type { ProgressEvent, RegistryEvents } from './progress.js';
import { isManifestLike, type PushImageOptions, type PushImageResult, pushImage, pushManifest, readAll } from './push-image.js';
import { listReferrers, type ReferrersOptions } from './referrers.js';
import { RegistrySession } from './request.js';
import { resolveReference } from './resolve.js';
import type { CallOptions, ContentSource, Fetcher, FetchOptions, PushContent, Pusher, PushOptions, Resolved, Resolver } from './types.js';
import { blobExists, type PushBlobOptions, type PushBlobResult, pushBlob } from './upload.js';

/**
 * Options of {@link RegistryClient.tags} and {@link RegistryClient.catalog}. `signal` ends the listing quietly,
 * after the names already yielded (no rejection).
 */
export interface ListOptions extends CallOptions {
  /** Entries per page (`?n=`). Default: the registry's own page size. */
  pageSize?: number;
}

function repoOf(ref: Reference): Repository {
  return { domain: ref.domain, path: ref.path };
}

/**
 * A client for OCI distribution registries (Docker Hub, GHCR, Quay, ECR, Harbor, registry:2…) over node's http
 * client (axios, loaded on demand, for proxies): resolve, fetch verified manifests and blobs, push blobs, manifests
 * and whole images, list tags and the catalog, referrers, delete. One per program: it keeps keep-alive connections.
 * Implements {@link Resolver}; `fetcher()` and `pusher()` give the {@link Fetcher} and {@link Pusher} roles.
 * References are read like docker's (`busybox` → `docker.io/library/busybox:latest`). Every call takes `signal` and
 * rejects with its reason on abort.
 *
 * Errors: {@link RegistryError} (ERR_REGISTRY_NOT_FOUND, _DENIED, _UNAUTHORIZED, _UNAVAILABLE, _TOO_MANY_REQUESTS,
 * _INVALID, _UNSUPPORTED, _PROTOCOL, ERR_STALL_TIMEOUT, ERR_DEADLINE_EXCEEDED, ERR_REDIRECT_LIMIT), and
 * ERR_DIGEST_MISMATCH, ERR_SIZE_MISMATCH, ERR_MANIFEST_TOO_LARGE, ERR_FOREIGN_LAYER_DENIED, ERR_INVALID_REFERENCE,
 * ERR_INSECURE_REDIRECT (a redirect or upload Location from https to http), ERR_MEDIA_TYPE_MISMATCH (a Content-Type,
 * descriptor and body that disagree),
 * the manifest parser's codes; ERR_INVALID_ARGUMENT from the constructor for bad options.
 */
export class RegistryClient implements Resolver {
  /** Progress of every transfer (typed eventemitter3 map); see also {@link RegistryClient.progress}. */
  readonly events = new EventEmitter<RegistryEvents>();
  readonly #transport: HttpTransport;
  readonly #ctx: ClientContext;

  /**
   * A client that authenticates like the docker CLI unless `options.credentials` or `options.auth` say otherwise
   * (see {@link RegistryClientOptions}). Does no I/O.
   *
   * @throws ERR_INVALID_ARGUMENT naming the bad option.
   */
  constructor(options: RegistryClientOptions = {}) {
    const resolved = resolveClientOptions(options);
    const mirrors = parseMirrors(resolved.mirrors);
    this.#transport = new HttpTransport(resolved.transport);
    this.#ctx = {
      session: new RegistrySession(this.#transport, resolved.auth, resolved.retry),
      transport: this.#transport,
      mirrors,
      stallTimeoutMs: resolved.transport.stallTimeoutMs,
      allowedForeignHosts: resolved.allowedForeignHosts,
      maxResumes: resolved.maxResumes,
      progress: (event) => this.events.emit('progress', event),
    };
  }

  /** Resolves `ref` (tag or digest; `latest` when neither) to its manifest or index descriptor (HEAD, then GET). */
  resolve(ref: string | Reference, options: CallOptions = {}): Promise<Resolved> {
    return resolveReference(this.#ctx, parseRef(ref), options.signal);
  }

  /** A {@link Fetcher} for the repository of `ref`. */
  fetcher(ref: string | Reference): Fetcher {
    const repo = repoOf(parseRef(ref, { defaultTag: false }));
    return {
      fetch: async (descriptor: Descriptor, options: FetchOptions = {}): Promise<Readable> => {
        if (!isManifestLike(descriptor.mediaType)) return fetchBlob(this.#ctx, repo, descriptor, options);
        if (options.offset) throw newError('ERR_INVALID_ARGUMENT', 'options.offset is not supported for manifests');
        const fetched = await fetchManifest(this.#ctx, repo, descriptor.digest, descriptor, options.signal);
        return Readable.from([fetched.bytes]);
      },
    };
  }

  /** A {@link Pusher} into the repository of `ref`; its tag (if any) is used for `{ root: true }` manifests. */
  pusher(ref: string | Reference): Pusher {
    const parsed = parseRef(ref, { defaultTag: false });
    const repo = repoOf(parsed);
    return {
      push: async (descriptor: Descriptor, content: PushContent, options: PushOptions = {}): Promise<void> => {
        if (!isManifestLike(descriptor.mediaType)) {
          await pushBlob(this.#ctx, repo, descriptor, content, options);
          return;
        }
        const source =
          content instanceof Uint8Array
            ? content
            : await readAll(typeof content === 'function' ? await content() : content, 4 * 1024 * 1024, `manifest ${descriptor.digest}`);
        const reference = options.root === true && parsed.tag !== undefined ? parsed.tag : descriptor.digest;
        const stored = await pushManifest(this.#ctx, repo, reference, source, descriptor.mediaType, options.signal);
        if (stored.digest !== descriptor.digest || stored.size !== descriptor.size) {
          throw newError('ERR_DIGEST_MISMATCH', `manifest content is ${stored.digest} (${stored.size} bytes), not ${descriptor.digest}`);
        }
      },
    };
  }

  /** Fetches, verifies and parses the manifest or index `ref` names (by tag or digest). */
  fetchManifest(ref: string | Reference, options: CallOptions & { descriptor?: Descriptor } = {}): Promise<FetchedManifest> {
    const parsed = parseRef(ref);
    const reference = options.descriptor?.digest ?? parsed.digest ?? parsed.tag!;
    return fetchManifest(this.#ctx, repoOf(parsed), reference, options.descriptor ?? (parsed.digest ? { digest: parsed.digest } : undefined), options.signal);
  }

  /** A verified stream of a blob of `ref`'s repository (digest and size checked byte by byte; Range resume). */
  fetchBlob(ref: string | Reference, descriptor: Descriptor, options: FetchBlobOptions = {}): Promise<Readable> {
    return fetchBlob(this.#ctx, repoOf(parseRef(ref, { defaultTag: false })), descriptor, options);
  }

  /** Fetches and strictly parses an image config (capped at 8 MiB before reading). */
  async fetchImageConfig(ref: string | Reference, descriptor: Descriptor, options: CallOptions = {}): Promise<ImageConfig> {
    if (descriptor.size > MAX_IMAGE_CONFIG_SIZE)
      throw newError('ERR_MANIFEST_TOO_LARGE', `image config of ${descriptor.size} bytes is larger than ${MAX_IMAGE_CONFIG_SIZE}`);
    const stream = await this.fetchBlob(ref, descriptor, options);
    const bytes = await readAll(stream, MAX_IMAGE_CONFIG_SIZE, `image config ${descriptor.digest}`);
    return parseImageConfig(bytes, { expected: { mediaType: descriptor.mediaType, size: descriptor.size } });
  }

  /** Whether the blob is in `ref`'s repository. */
  blobExists(ref: string | Reference, descriptor: Pick<Descriptor, 'digest'>, options: CallOptions = {}): Promise<boolean> {
    return blobExists(this.#ctx, repoOf(parseRef(ref, { defaultTag: false })), descriptor, options.signal);
  }

  /** Pushes one blob (exists check, optional mount, monolithic or chunked upload); says how it got there. */
  pushBlob(ref: string | Reference, descriptor: Descriptor, content: PushContent, options: PushBlobOptions = {}): Promise<PushBlobResult> {
    return pushBlob(this.#ctx, repoOf(parseRef(ref, { defaultTag: false })), descriptor, content, options);
  }

  /** Mounts a blob from repository `fromRepository` (same registry) into `ref`'s, uploading when the registry does not mount. */
  mountBlob(ref: string | Reference, descriptor: Descriptor, fromRepository: string, content: PushContent, options: CallOptions = {}): Promise<PushBlobResult> {
    return pushBlob(this.#ctx, repoOf(parseRef(ref, { defaultTag: false })), descriptor, content, {
      ...options,
      mountFrom: fromRepository,
      skipExistsCheck: true,
    });
  }

  /** PUTs a manifest or index under `ref`'s digest, else its tag (`latest` when neither). */
  pushManifest(ref: string | Reference, bytes: Uint8Array, mediaType: string, options: CallOptions = {}): Promise<Descriptor> {
    const parsed = parseRef(ref);
    return pushManifest(this.#ctx, repoOf(parsed), parsed.digest ?? parsed.tag!, bytes, mediaType, options.signal);
  }

  /** Pushes a whole image or index from `source`, children first, the root under `ref`'s tag (or by digest). */
  pushImage(ref: string | Reference, root: Descriptor, source: ContentSource, options: PushImageOptions = {}): Promise<PushImageResult> {
    const parsed = parseRef(ref, { defaultTag: false });
    return pushImage(this.#ctx, repoOf(parsed), parsed.digest === undefined ? parsed.tag : undefined, root, source, options);
  }

  /** The tags of `ref`'s repository, page by page (`Link` pagination) as one async iterable; ends quietly on abort. */
  async *tags(ref: string | Reference, options: ListOptions = {}): AsyncIterable<string> {
    const repo = repoOf(parseRef(ref, { defaultTag: false }));
    const query = pageQuery(options.pageSize);
    const pages = paginate(this.#ctx, upstreamEndpoint(repo.domain, this.#transport), `${repoPath(repo, 'tags/list')}${query}`, 'tags', {
      scopes: [repositoryScope(repo.path)],
      what: `list tags of ${repo.domain}/${repo.path}`,
      signal: options.signal,
    });
    for await (const page of pages) yield* page;
  }

  /** The repositories of the registry `domain` (`host[:port]`), page by page, as one async iterable; ends quietly on abort. */
  async *catalog(domain: string, options: ListOptions = {}): AsyncIterable<string> {
    if (typeof domain !== 'string' || domain === '' || domain.includes('/')) throw newError('ERR_INVALID_ARGUMENT', 'domain must be a registry host[:port]');
    const pages = paginate(this.#ctx, upstreamEndpoint(domain, this.#transport), `/v2/_catalog${pageQuery(options.pageSize)}`, 'repositories', {
      scopes: ['registry:catalog:*'],
      what: `list the catalog of ${domain}`,
      signal: options.signal,
    });
    for await (const page of pages) yield* page;
  }

  /** The manifests referring to `subject` in `ref`'s repository (OCI 1.1 referrers API, else the tag schema). */
  referrers(ref: string | Reference, subject: string, options: ReferrersOptions = {}): Promise<Descriptor[]> {
    return listReferrers(this.#ctx, repoOf(parseRef(ref, { defaultTag: false })), parseDigest(subject), options);
  }

  /** Deletes the manifest `ref` names (by digest; registries refuse tags with ERR_REGISTRY_UNSUPPORTED or _INVALID). */
  async deleteManifest(ref: string | Reference, options: CallOptions = {}): Promise<void> {
    const parsed = parseRef(ref);
    await this.#delete(repoOf(parsed), 'manifests', parsed.digest ?? parsed.tag!, options.signal);
  }

  /** Deletes a blob from `ref`'s repository. */
  async deleteBlob(ref: string | Reference, digest: string, options: CallOptions = {}): Promise<void> {
    await this.#delete(repoOf(parseRef(ref, { defaultTag: false })), 'blobs', parseDigest(digest), options.signal);
  }

  /**
   * Progress events as an async iterable, from this call on (events before the first `next()` are kept), until
   * `signal` aborts (then it ends quietly, after the events already queued).
   */
  progress(options: CallOptions = {}): AsyncIterable<ProgressEvent> {
    return eventIterator<ProgressEvent>(
      (push) => {
        this.events.on('progress', push);
        return () => this.events.off('progress', push);
      },
      { signal: options.signal, onAbort: 'end' },
    );
  }

  /** Closes idle keep-alive connections; the client stays usable (new connections are opened as needed). */
  close(): void {
    this.#transport.close();
  }

  async #delete(repo: Repository, kind: 'manifests' | 'blobs', reference: string | Digest, signal?: AbortSignal): Promise<void> {
    const res = await this.#ctx.session.call({
      method: 'DELETE',
      endpoint: upstreamEndpoint(repo.domain, this.#transport),
      target: repoPath(repo, kind, reference),
      scopes: [`repository:${repo.path}:delete`],
      accept: [200, 202, 204],
      what: `delete ${kind === 'blobs' ? 'blob' : 'manifest'} ${repo.domain}/${repo.path}@${reference}`,
      signal,
    });
    discard(res);
  }
}

function pageQuery(pageSize: number | undefined): string {
  if (pageSize === undefined) return '';
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw newError('ERR_INVALID_ARGUMENT', 'options.pageSize must be a positive integer');
  return `?n=${pageSize}`;
}
