import type { Descriptor } from '../oci/descriptor.js';

/** A byte count for one descriptor moving to or from a registry. */
export interface ProgressEvent {
  /** `fetch` for downloads, `push` for uploads. */
  direction: 'fetch' | 'push';
  /** The repository, e.g. `127.0.0.1:5000/busybox`. */
  repository: string;
  descriptor: Descriptor;
  /** Bytes transferred so far (for a resumed download: including the bytes before the resume). */
  complete: number;
  /** `descriptor.size`. */
  total: number;
  /** Set on the last event of a transfer: `done` once verified, `skipped` when it already existed, `mounted`, `failed`. */
  status?: 'done' | 'skipped' | 'mounted' | 'failed';
}

/** The typed event map of `RegistryClient.events` (eventemitter3). */
export interface RegistryEvents {
  /** Per-descriptor byte counts, about once per MiB and once at the end. */
  progress: (event: ProgressEvent) => void;
}

/** Something to report progress to (the client's emitter, or a per-call callback). */
export type ProgressSink = (event: ProgressEvent) => void;
