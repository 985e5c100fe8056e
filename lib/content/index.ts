/**
 * The content-addressed store: role interfaces (Provider, Ingester, IngestManager, Manager, Writer) and
 * LocalContentStore, which keeps blobs in an OCI image layout with resumable, verified writes.
 * @module
 */
export type { BlobInfo, CommitOptions, ContentCallOptions, ContentStore, IngestFollower, IngestManager, IngestReader, IngestStatus, Ingester, Manager, Provider, ReaderAt, Writer, WriterOptions } from './types.js';
export { LocalContentStore } from './local-store.js';
export { OCI_INDEX_MEDIA_TYPE } from './layout.js';
