import { hasCode, newError } from '../../errors/index.js';
import { readFileInRoot } from '../../util/open-in-root.js';

// User and group lookup in a container's rootfs, the way containerd's WithUser/WithAdditionalGIDs and runc's
// user package read /etc/passwd and /etc/group. The rootfs is untrusted: its files are found with
// readFileInRoot, component by component (a symlinked /etc/passwd pointing at /etc/shadow on the host resolves
// inside the rootfs, even when swapped in during the read), and must be regular files of bounded size.

/** One line of `/etc/passwd`. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** One line of `/etc/group`. */
export interface GroupEntry {
  name: string;
  gid: number;
  /** User names listed as members. */
  members: string[];
}

/** A resolved user: the ids runc sets for the process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
}

/** runc requires ids in 0..2^31-1. */
const MAX_ID = 0x7fffffff;
/** Real user databases are far smaller; the cap bounds what a hostile rootfs can make us read. */
const MAX_USER_FILE_BYTES = 10 * 1024 * 1024;

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/** Parses `/etc/passwd` text; comment, blank and malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = parseId(f[2]);
    const gid = parseId(f[3]);
    if (!f[0] || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

/** Parses `/etc/group` text; comment, blank and malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = parseId(f[2]);
    if (!f[0] || gid === undefined) continue;
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    out.push({ name: f[0], gid, members });
  }
  return out;
}

/**
 * Reads a file of the rootfs as text, the path resolved inside `rootfs` (symlinks included) with
 * `readFileInRoot`, so a directory swapped for a symlink while it is read cannot lead out of the rootfs.
 *
 * @returns the text, or `undefined` when the file does not exist.
 * @throws ERR_FAILED_PRECONDITION when it is not a regular file or is larger than 10 MiB; the other errors of
 *   `readFileInRoot` (ERR_SYMLINK_LOOP, ERR_IO…). Rejects with `signal.reason` on abort.
 */
export async function readRootfsFile(rootfs: string, path: string, options: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  try {
    return (await readFileInRoot(rootfs, path, { maxBytes: MAX_USER_FILE_BYTES, signal: options.signal })).toString('utf8');
  } catch (err) {
    // A missing file is an empty user database; a missing rootfs is the caller's mistake and stays an error.
    if (hasCode(err, 'ERR_NOT_FOUND') && err.details.path !== undefined) return undefined;
    throw err;
  }
}

function parseUserSpec(user: string): [string, string | undefined] {
  if (typeof user !== 'string' || user === '' || user.includes('\0') || user.split(':').length > 2) {
    throw newError('ERR_INVALID_ARGUMENT', `user "${String(user)}" is not name, uid, name:group or uid:gid`);
  }
  const [u, g] = user.split(':') as [string, string | undefined];
  if (u === '' || g === '') throw newError('ERR_INVALID_ARGUMENT', `user "${user}" has an empty part`);
  for (const part of [u, g]) {
    if (part !== undefined && /^\d+$/.test(part) && parseId(part) === undefined) {
      throw newError('ERR_INVALID_ARGUMENT', `user "${user}": id ${part} is out of range (0..${MAX_ID})`);
    }
  }
  return [u, g];
}

/**
 * Resolves a user the way Docker's `--user` and an image's `User` are read: `name`, `uid`, `name:group`,
 * `uid:gid` or a mix. Names are looked up in the rootfs's `/etc/passwd` and `/etc/group`; a name alone also
 * gives the user's primary group; a uid alone gives the gid of its passwd line, or 0 when it has none (as
 * containerd does); `uid:gid` needs no lookup at all.
 *
 * @param rootfs host path of the rootfs; only needed when something must be looked up.
 * @throws ERR_INVALID_ARGUMENT for a malformed user string; ERR_USER_NOT_FOUND for a name not in the file
 *   (or a missing file); ERR_FAILED_PRECONDITION when a lookup is needed and `rootfs` is undefined; the errors of
 *   {@link readRootfsFile}. Rejects with `signal.reason` on abort.
 */
export async function resolveUser(rootfs: string | undefined, user: string, options: { signal?: AbortSignal } = {}): Promise<ResolvedUser> {
  const [u, g] = parseUserSpec(user);
  const uidNum = parseId(u);
  const gidNum = g === undefined ? undefined : parseId(g);
  if (uidNum !== undefined && gidNum !== undefined) return { uid: uidNum, gid: gidNum };
  if (rootfs === undefined) {
    throw newError('ERR_FAILED_PRECONDITION', `resolving user "${user}" needs the rootfs (pass options.rootfs or an absolute root path)`);
  }
  const needPasswd = uidNum === undefined || g === undefined;
  const passwdText = needPasswd ? await readRootfsFile(rootfs, '/etc/passwd', options) : undefined;
  const passwd = parsePasswd(passwdText ?? '');
  let uid: number;
  let gid: number;
  if (uidNum === undefined) {
    const entry = passwd.find((p) => p.name === u);
    if (!entry) throw newError('ERR_USER_NOT_FOUND', `no user "${u}" in the rootfs's /etc/passwd`, { details: { user: u } });
    [uid, gid] = [entry.uid, entry.gid];
  } else {
    uid = uidNum;
    gid = passwd.find((p) => p.uid === uidNum)?.gid ?? 0;
  }
  if (gidNum !== undefined) gid = gidNum;
  else if (g !== undefined) {
    const groups = parseGroup((await readRootfsFile(rootfs, '/etc/group', options)) ?? '');
    const entry = groups.find((e) => e.name === g);
    if (!entry) throw newError('ERR_USER_NOT_FOUND', `no group "${g}" in the rootfs's /etc/group`, { details: { group: g } });
    gid = entry.gid;
  }
  return { uid, gid };
}

/**
 * The supplementary groups of a user (a name or a uid): the gids of the `/etc/group` lines listing the user's
 * name as a member, in file order. A uid without a passwd line, or a missing file, gives `[]`.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty user; the errors of {@link readRootfsFile}. Rejects with
 *   `signal.reason` on abort.
 */
export async function lookupSupplementaryGids(rootfs: string, user: string, options: { signal?: AbortSignal } = {}): Promise<number[]> {
  if (typeof user !== 'string' || user === '' || user.includes(':')) {
    throw newError('ERR_INVALID_ARGUMENT', `user "${String(user)}" must be a name or a uid`);
  }
  let name = user;
  const uid = parseId(user);
  if (uid !== undefined) {
    const entry = parsePasswd((await readRootfsFile(rootfs, '/etc/passwd', options)) ?? '').find((p) => p.uid === uid);
    if (!entry) return [];
    name = entry.name;
  }
  const groups = parseGroup((await readRootfsFile(rootfs, '/etc/group', options)) ?? '');
  const gids: number[] = [];
  for (const gr of groups) if (gr.members.includes(name) && !gids.includes(gr.gid)) gids.push(gr.gid);
  return gids;
}
