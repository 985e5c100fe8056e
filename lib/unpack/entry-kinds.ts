import type { Stats } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, symlink } from 'node:fs/promises';
import { newError } from '../errors/index.js';
import { logger } from '../util/debug.js';
import { createFifo } from '../util/fifo.js';
import { errnoOf } from '../util/fs-error.js';
import { makeDevice } from '../util/fs-tools.js';
import { resolveInRoot } from '../util/safe-path.js';
import { cleanLinkTarget } from './entry-path.js';
import type { TarEntry } from './tar-parser.js';
import type { WriteContext } from './write-context.js';

const log = logger('unpack:apply');

/** An entry that was not applied, and why (device nodes when not running as root). */
export interface SkippedEntry {
  path: string;
  reason: string;
}

// The entries that are not regular files: directories, symlinks, hardlinks, device nodes and fifos.

export async function applyDirectory(ctx: WriteContext, rel: string, entry: TarEntry): Promise<void> {
  const { tree, attrs } = ctx;
  const { host, key } = await tree.locate(rel);
  await ctx.scheduler.waitFor(key);
  let existed = tree.isDir(key);
  if (!existed) {
    let st: Stats | undefined;
    try {
      st = await lstat(host);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw tree.fail(err, 'inspect', key);
    }
    // A directory entry over a symlink replaces the link: chown/chmod must never reach its target.
    if (st?.isDirectory()) existed = true;
    else {
      if (st) await tree.removeExisting(host, key);
      try {
        await mkdir(host, entry.mode & 0o777);
      } catch (err) {
        throw tree.fail(err, 'create directory', key);
      }
    }
    tree.cacheDir(key);
  }
  tree.markLayer(key);
  try {
    // `host` is a real directory at this point (checked or just made), so following paths is safe.
    if (existed || attrs.needsChown(entry)) await lchown(host, entry.uid, entry.gid);
    if (existed || attrs.needsChmod(entry)) await chmod(host, entry.mode);
  } catch (err) {
    throw tree.fail(err, 'set owner and mode of', key);
  }
  await attrs.setXattrs(host, entry);
  tree.setDirTimes(key, host, entry.atime ?? entry.mtime, entry.mtime);
}

export async function applySymlink(ctx: WriteContext, rel: string, entry: TarEntry): Promise<void> {
  const { tree, attrs } = ctx;
  const { host, key } = await tree.locate(rel);
  if (tree.isDir(key)) await tree.replaceDir(host, key);
  tree.markLayer(key);
  // The target is stored as the archive gives it: it is only a string until something resolves it, and
  // every resolution containerkit does goes through resolveInRoot.
  await ctx.scheduler.schedule(key, async () => {
    try {
      await symlink(entry.linkname, host);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw tree.fail(err, 'create symlink', key);
      await tree.removeExisting(host, key);
      try {
        await symlink(entry.linkname, host);
      } catch (again) {
        throw tree.fail(again, 'create symlink', key);
      }
    }
    try {
      if (attrs.needsChown(entry)) await lchown(host, entry.uid, entry.gid);
      await lutimes(host, entry.atime ?? entry.mtime, entry.mtime);
    } catch (err) {
      throw tree.fail(err, 'set metadata of', key);
    }
    await attrs.setXattrs(host, entry);
  });
}

export async function applyHardlink(ctx: WriteContext, rel: string, entry: TarEntry): Promise<void> {
  const { tree } = ctx;
  const targetRel = cleanLinkTarget(entry.linkname, entry.path, entry.offset);
  await ctx.scheduler.barrier();
  // The target's parents are resolved inside the root; its last component is not followed, so a hardlink
  // to a symlink links the symlink (as link(2) does on Linux) and can never reach a host file.
  const targetHost = await resolveInRoot(tree.root, targetRel, { followFinal: false, signal: ctx.signal });
  let st: Stats | undefined;
  try {
    st = await lstat(targetHost);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw tree.fail(err, 'inspect', targetRel);
  }
  if (st === undefined || st.isDirectory()) {
    throw newError(
      'ERR_INVALID_TAR',
      `hardlink ${JSON.stringify(entry.path)} points to ${st ? 'a directory' : 'a missing file'} (${JSON.stringify(entry.linkname)})`,
      {
        details: { path: entry.path, linkname: entry.linkname, offset: entry.offset },
      },
    );
  }
  const { host, key } = await tree.locate(rel);
  if (host === targetHost) return;
  await tree.removeExisting(host, key);
  try {
    await link(targetHost, host);
  } catch (err) {
    throw tree.fail(err, 'create hardlink', key);
  }
  tree.markLayer(key);
}

/** A character or block device, or a fifo; devices are skipped (into `skipped`) unless running as root. */
export async function applySpecial(ctx: WriteContext, rel: string, entry: TarEntry, skipped: SkippedEntry[]): Promise<void> {
  const { tree, attrs } = ctx;
  if (entry.type !== 'fifo' && !attrs.isRoot) {
    skipped.push({ path: rel, reason: 'device nodes need root' });
    log('skipping device %s: not root', rel);
    return;
  }
  const { host, key } = await tree.locate(rel);
  if (tree.isDir(key)) await tree.replaceDir(host, key);
  await ctx.scheduler.waitFor(key);
  await tree.removeExisting(host, key);
  const signal = ctx.signal;
  if (entry.type === 'fifo') await createFifo(host, { mode: entry.mode & 0o777, signal });
  else await makeDevice(host, entry.type as 'char' | 'block', entry.devmajor, entry.devminor, entry.mode, signal);
  tree.markLayer(key);
  try {
    if (attrs.needsChown(entry)) await lchown(host, entry.uid, entry.gid);
    // The node was just made by us at a path with no symlink in it, so chmod cannot follow anything.
    await chmod(host, entry.mode);
    await lutimes(host, entry.atime ?? entry.mtime, entry.mtime);
  } catch (err) {
    throw tree.fail(err, 'set metadata of', key);
  }
  await attrs.setXattrs(host, entry);
}
