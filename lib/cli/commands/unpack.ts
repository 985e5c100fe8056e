import { readdir, rm } from 'node:fs/promises';
import { newError } from '../../errors/index.js';
import { layerCompression } from '../../oci/index.js';
import { Unpacker } from '../../unpack/index.js';
import type { Command } from '../command.js';
import { imageNotFound, openExistingStore } from '../store.js';

// DEST must be missing or empty, so that a failed unpack can leave it as it found it.
async function checkEmpty(dest: string): Promise<void> {
  const entries = await readdir(dest).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries.length > 0) throw newError('ERR_ALREADY_EXISTS', `${dest} is not empty`);
}

/** `containerkit unpack REF DEST`: a stored image's layers applied in order into a plain directory (`umoci raw unpack`). */
export const unpackCommand: Command = {
  name: 'unpack',
  summary: 'Unpack an image from the store into a directory',
  usage: 'unpack [--platform OS/ARCH[/VARIANT]] REF DEST',
  options: { platform: { type: 'string' } },
  async run(ctx, args) {
    const [ref, dest, ...extra] = args.positionals;
    if (ref === undefined || dest === undefined || extra.length > 0) throw newError('ERR_INVALID_ARGUMENT', 'unpack takes REF and DEST');
    const platform = args.values.platform as string | undefined;
    await checkEmpty(dest);
    const store = await openExistingStore(ctx);
    if (store === undefined) throw imageNotFound(ref);
    const image = await store.get(ref, { ...(platform === undefined ? {} : { platform }), signal: ctx.signal });
    const { layers } = image.manifest;
    const diffIds = image.config.rootfs.diff_ids; // one per layer: the store's resolver checked it
    const unpacker = new Unpacker();
    try {
      for (const [i, layer] of layers.entries()) {
        // Read through the content store (a Provider), never by the blob's path.
        const reader = await store.content.readerAt(layer.digest, { signal: ctx.signal });
        try {
          await unpacker.apply(dest, reader.stream(0, { signal: ctx.signal }), {
            compression: layerCompression(layer.mediaType),
            expectedDigest: layer.digest,
            expectedSize: layer.size,
            expectedDiffId: diffIds[i]!,
            signal: ctx.signal,
          });
        } finally {
          await reader.close();
        }
      }
    } catch (err) {
      await rm(dest, { recursive: true, force: true });
      throw err;
    }
    ctx.stdout.write(`${image.name}: ${layers.length} layers unpacked into ${dest}\n`);
  },
};
