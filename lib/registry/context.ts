import type { MirrorMap, Repository } from './endpoints.js';
import type { HttpTransport } from './http.js';
import type { ProgressSink } from './progress.js';
import type { RegistrySession } from './request.js';

/**
 * What the protocol functions (resolve, fetch, upload, pagination, referrers) share: one per RegistryClient.
 * @internal
 */
export interface ClientContext {
  session: RegistrySession;
  transport: HttpTransport;
  mirrors: MirrorMap;
  stallTimeoutMs: number;
  /** Hosts a foreign layer's `urls` may be fetched from. */
  allowedForeignHosts: ReadonlySet<string>;
  /** Resumes allowed per blob download after a dropped connection or a stall. */
  maxResumes: number;
  /** Where progress goes (the client's emitter). */
  progress: ProgressSink;
}

/** `domain/path`, the repository's display name. */
export function repoName(repo: Repository): string {
  return `${repo.domain}/${repo.path}`;
}
