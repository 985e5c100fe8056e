import { createReadStream } from 'node:fs';
import { newError } from '../errors/index.js';
import { layerCompression } from '../oci/media-types.js';
import { type ApplyLayerOptions, type ApplyLayerResult, applyLayer } from './apply-layer.js';
import { CHUNK_SIZE } from './decompress.js';
import type { WhiteoutFormat } from './layer-writer.js';

/** Defaults an {@link Unpacker} applies to every layer; each call may override them. */
export interface UnpackerOptions {
  /** Default `'apply'`; `'overlay'` when the roots are overlay upper dirs. */
  whiteoutFormat?: WhiteoutFormat;
  /** Per-layer limit on the uncompressed size (ERR_LAYER_TOO_LARGE). Default: none. */
  maxUncompressedSize?: number;
  /** File creations in flight at once. Default 16. */
  concurrency?: number;
}

/** The part of an OCI descriptor a layer blob needs: its media type (for the compression), digest and size. */
export interface LayerBlobDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Per-call options of {@link Unpacker.applyLayerFile}. */
export type ApplyLayerFileOptions = Omit<ApplyLayerOptions, 'compression' | 'expectedDigest' | 'expectedSize' | 'expectedDiffId'>;

/**
 * Applies image layers to directories with a fixed set of defaults: a thin holder around {@link applyLayer}
 * for callers (snapshotters, the image store) that unpack many layers the same way.
 *
 * @throws ERR_INVALID_ARGUMENT from the constructor for a bad option.
 */
export class Unpacker {
  readonly #defaults: UnpackerOptions;

  constructor(options: UnpackerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
    const { whiteoutFormat, maxUncompressedSize, concurrency } = options;
    if (whiteoutFormat !== undefined && whiteoutFormat !== 'apply' && whiteoutFormat !== 'overlay') {
      throw newError('ERR_INVALID_ARGUMENT', `options.whiteoutFormat must be apply or overlay, got ${JSON.stringify(whiteoutFormat)}`);
    }
    if (maxUncompressedSize !== undefined && (!Number.isSafeInteger(maxUncompressedSize) || maxUncompressedSize < 0)) {
      throw newError('ERR_INVALID_ARGUMENT', 'options.maxUncompressedSize must be a non-negative integer');
    }
    if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1024)) {
      throw newError('ERR_INVALID_ARGUMENT', 'options.concurrency must be an integer from 1 to 1024');
    }
    this.#defaults = { ...options };
  }

  /** {@link applyLayer} with this unpacker's defaults under `options`. Same errors. */
  apply(root: string, stream: NodeJS.ReadableStream | AsyncIterable<Buffer>, options: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
    return applyLayer(root, stream as AsyncIterable<Buffer>, { ...this.#defaults, ...options });
  }

  /**
   * Applies the layer blob stored in the file `path`, described by `descriptor` (its media type gives the
   * compression; digest and size are verified) with the config's `diffId` (verified when given).
   *
   * @throws ERR_UNSUPPORTED_MEDIA_TYPE when the media type is not a layer type; ERR_NOT_FOUND when the file is
   *   missing; otherwise as {@link applyLayer}.
   */
  async applyLayerFile(
    root: string,
    path: string,
    descriptor: LayerBlobDescriptor,
    diffId: string | undefined,
    options: ApplyLayerFileOptions = {},
  ): Promise<ApplyLayerResult> {
    if (typeof path !== 'string' || path === '') throw newError('ERR_INVALID_ARGUMENT', 'path must be a non-empty string');
    if (typeof descriptor !== 'object' || descriptor === null) throw newError('ERR_INVALID_ARGUMENT', 'descriptor must be an object');
    const compression = layerCompression(descriptor.mediaType);
    const file = createReadStream(path, { highWaterMark: CHUNK_SIZE });
    // Surface a missing file as ERR_NOT_FOUND before anything is written.
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'ENOENT'
            ? newError('ERR_NOT_FOUND', `layer file ${path} does not exist`, { cause: err, details: { path } })
            : newError('ERR_IO', `cannot open layer file ${path}: ${err.message}`, { cause: err, details: { path, errno: err.code } }),
        );
      });
    });
    return applyLayer(root, file, {
      ...this.#defaults,
      ...options,
      compression,
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      ...(diffId === undefined ? {} : { expectedDiffId: diffId }),
    });
  }
}
