/**
 * The content-addressed store: role interfaces (Provider, Ingester, IngestManager, Manager, Writer) and
 * LocalContentStore, which keeps blobs in an OCI image layout with resumable, verified writes.
 * @module
 */

export { OCI_INDEX_MEDIA_TYPE } from './layout.js';
export { LocalContentStore } from './local-store.js';
export type {
  BlobInfo,
  CommitOptions,
  ContentCallOptions,
  ContentStore,
  Ingester,
  IngestFollower,
  IngestManager,
  IngestReader,
  IngestStatus,
  Manager,
  Provider,
  ReaderAt,
  Writer,
  WriterOptions,
} from './types.js';
