import type { Stats } from 'node:fs';
import { lchown, lstat, readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { errnoOf } from '../util/fs-error.js';
import { makeDevice, setXattr } from '../util/fs-tools.js';
import { resolveInRoot } from '../util/safe-path.js';
import type { TarEntry } from './tar-parser.js';
import type { WriteContext } from './write-context.js';

/** How whiteouts are applied: `apply` deletes the lower entries; `overlay` writes overlayfs whiteouts. */
export type WhiteoutFormat = 'apply' | 'overlay';

/**
 * `.wh.<name>`: removes `<name>` of the lower layers (apply) or writes a 0/0 character device (overlay).
 * The directory is resolved inside the root, so `../.wh.x` and `link-to-outside/.wh.x` stay inside.
 * Entries this layer made are kept: a whiteout hides lower layers only (image-spec layer.md).
 */
export async function applyWhiteout(ctx: WriteContext, format: WhiteoutFormat, dirRel: string, name: string, entry: TarEntry): Promise<void> {
  const { tree } = ctx;
  await ctx.scheduler.barrier();
  const hostDir = await resolveInRoot(tree.root, dirRel, { followFinal: true, signal: ctx.signal });
  const dirKey = relative(tree.root, hostDir);
  const key = dirKey === '' ? name : `${dirKey}/${name}`;
  if (tree.inLayer(key)) return;
  const host = tree.host(key);
  await tree.noteTimes(dirKey);
  if (format === 'overlay') {
    await tree.ensureDir(hostDir, dirKey);
    await tree.removeExisting(host, key);
    await makeDevice(host, 'char', 0, 0, 0, ctx.signal);
    try {
      if (ctx.attrs.needsChown(entry)) await lchown(host, entry.uid, entry.gid);
    } catch (err) {
      throw tree.fail(err, 'set owner of', key);
    }
    return;
  }
  try {
    await lstat(host);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return;
    throw tree.fail(err, 'inspect', key);
  }
  await tree.removeTree(host, key);
}

/**
 * `<dir>/.wh..wh..opq`: hides the lower layers' content of `<dir>`. Applied, it removes every entry below
 * `<dir>` that this layer did not make (wherever the marker sits among the layer's entries); in overlay form
 * it sets `trusted.overlay.opaque=y` on the directory.
 */
export async function applyOpaque(ctx: WriteContext, format: WhiteoutFormat, dirRel: string): Promise<void> {
  const { tree } = ctx;
  await ctx.scheduler.barrier();
  const hostDir = await resolveInRoot(tree.root, dirRel, { followFinal: true, signal: ctx.signal });
  const dirKey = relative(tree.root, hostDir);
  if (format === 'overlay') {
    await tree.ensureDir(hostDir, dirKey);
    tree.markLayer(dirKey);
    await setXattr(hostDir, 'trusted.overlay.opaque', Buffer.from('y'), ctx.signal);
    return;
  }
  let st: Stats;
  try {
    st = await lstat(hostDir);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return;
    throw tree.fail(err, 'inspect', dirKey);
  }
  if (st.isDirectory()) {
    await tree.noteTimes(dirKey);
    await pruneLower(ctx, hostDir, dirKey);
  }
}

async function pruneLower(ctx: WriteContext, host: string, key: string): Promise<void> {
  const { tree } = ctx;
  let names: string[];
  try {
    names = await readdir(host);
  } catch (err) {
    throw tree.fail(err, 'list', key);
  }
  for (const name of names) {
    const childKey = key === '' ? name : `${key}/${name}`;
    const childHost = `${host}/${name}`;
    if (!tree.inLayer(childKey)) {
      await tree.removeTree(childHost, childKey);
    } else if ((await lstat(childHost)).isDirectory()) {
      await pruneLower(ctx, childHost, childKey);
    }
  }
}
