import { posix } from 'node:path';
import { newError } from '../errors/index.js';

/** The prefix of a whiteout file: `.wh.<name>` hides `<name>` of the lower layers (OCI image-spec layer.md). */
export const WHITEOUT_PREFIX = '.wh.';
/** The opaque-directory marker: `<dir>/.wh..wh..opq` hides everything the lower layers have in `<dir>`. */
export const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs metadata (`.wh..wh.plnk`, `.wh..wh.aufs`…) starts so; such entries are skipped. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

/**
 * Cleans an entry name lexically into a path relative to the root, as if the root were `/`: `.` components
 * dropped, `..` applied and clamped at the root, leading and trailing slashes removed. `''` is the root itself.
 *
 * Clamping rather than refusing is what containerd does for entry names (`../../etc/x` lands on `<root>/etc/x`):
 * the name is only a location inside the root and cannot reach out of it once cleaned, and refusing would turn
 * away layers from sloppy but harmless producers. Cleaning is lexical, before any symlink is looked at, so a
 * `..` after a symlink cannot climb relative to the link's target.
 */
export function cleanEntryPath(name: string): string {
  const cleaned = posix.normalize(`/${name}`);
  return cleaned === '/' ? '' : cleaned.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Cleans a hardlink target. Unlike entry names, a target that climbs above the root with `..` is refused: a
 * hardlink names existing content, and a target outside the root is an attempt to reach a host file (clamping
 * it could silently link the wrong file). A leading `/` is read as archive-relative, as tar does.
 *
 * @throws ERR_PATH_ESCAPE when `..` climbs above the root.
 */
export function cleanLinkTarget(linkname: string, entryPath: string, offset: number): string {
  const relativeName = linkname.replace(/^\/+/, '');
  const normalized = posix.normalize(relativeName === '' ? '.' : relativeName);
  if (normalized === '..' || normalized.startsWith('../')) {
    throw newError('ERR_PATH_ESCAPE', `hardlink ${JSON.stringify(entryPath)} points outside the root (${JSON.stringify(linkname)})`, {
      details: { path: entryPath, linkname, offset },
    });
  }
  return cleanEntryPath(normalized);
}

/** How an entry's name reads with respect to whiteouts. */
export type WhiteoutKind = { kind: 'none' } | { kind: 'whiteout'; dir: string; name: string } | { kind: 'opaque'; dir: string } | { kind: 'meta' };

/**
 * Classifies a cleaned entry path: a plain entry, a whiteout of `<dir>/<name>`, an opaque marker for `<dir>`,
 * or aufs metadata to skip (any component starting `.wh..wh.` other than a final opaque marker).
 *
 * @throws ERR_INVALID_WHITEOUT for a whiteout of an empty name, `.` or `..`, or a `.wh.` directory component
 *   (a layer cannot both hide a name and put entries under it).
 */
export function classifyWhiteout(path: string, offset: number): WhiteoutKind {
  if (!path.includes(WHITEOUT_PREFIX)) return { kind: 'none' };
  const parts = path.split('/');
  const base = parts.pop()!;
  for (const part of parts) {
    if (part.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
    if (part.startsWith(WHITEOUT_PREFIX)) {
      throw newError('ERR_INVALID_WHITEOUT', `whiteout name ${JSON.stringify(part)} used as a directory in ${JSON.stringify(path)}`, {
        details: { path, offset },
      });
    }
  }
  const dir = parts.join('/');
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw newError('ERR_INVALID_WHITEOUT', `malformed whiteout ${JSON.stringify(path)}`, { details: { path, offset } });
  }
  return { kind: 'whiteout', dir, name };
}
