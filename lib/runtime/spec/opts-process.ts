import { newError } from '../../errors/index.js';
import type { PosixRlimit, Spec } from '../../oci/runtime-spec.js';
import { normalizeRlimitType } from './rlimits.js';
import { checkAbsolute, checkString, rootfsOf, type SpecOpt, setProcess } from './spec-opt.js';
import { lookupSupplementaryGids, resolveUser } from './user.js';

// Options on the container's process: argv, environment, cwd, terminal, user and groups, rlimits.

/**
 * Sets the process's argv (replacing any). `args[0]` is looked up in the container's PATH by runc.
 *
 * @throws ERR_INVALID_ARGUMENT when there is no argument or one is not a string.
 */
export function withProcessArgs(...args: string[]): SpecOpt {
  if (args.length === 0) throw newError('ERR_INVALID_ARGUMENT', 'withProcessArgs: at least one argument is required');
  for (const a of args) checkString(a, 'withProcessArgs: each argument', true);
  return (_ctx, spec) => {
    setProcess(spec).args = [...args];
  };
}

/**
 * Merges `KEY=value` entries into the environment the way containerd's `WithEnv` does: an entry replaces the one
 * with the same key in place, a new key is appended, and an entry without `=` (just `KEY`) removes that key.
 *
 * @throws ERR_INVALID_ARGUMENT for an entry that is not a string or has an empty key.
 */
export function withEnv(entries: readonly string[]): SpecOpt {
  if (!Array.isArray(entries)) throw newError('ERR_INVALID_ARGUMENT', 'withEnv: entries must be an array');
  for (const e of entries) {
    checkString(e, 'withEnv: each entry');
    if (e.startsWith('=')) throw newError('ERR_INVALID_ARGUMENT', `withEnv: entry "${e}" has an empty key`);
  }
  return (_ctx, spec) => {
    const proc = setProcess(spec);
    proc.env = mergeEnv(proc.env ?? [], entries);
  };
}

/** @internal `overrides` merged into `base` with {@link withEnv}'s rules. */
export function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out: Array<string | undefined> = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => {
    index.set(keyOf(e!), i);
  });
  for (const e of overrides) {
    const key = keyOf(e);
    const at = index.get(key);
    if (!e.includes('=')) {
      if (at !== undefined) out[at] = undefined;
      continue;
    }
    if (at !== undefined && out[at] !== undefined) out[at] = e;
    else index.set(key, out.push(e) - 1);
  }
  return out.filter((e): e is string => e !== undefined);
}

function keyOf(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/**
 * Sets the working directory of the process (absolute, inside the container; runc creates it if missing).
 *
 * @throws ERR_INVALID_ARGUMENT for a relative path.
 */
export function withCwd(cwd: string): SpecOpt {
  checkAbsolute(cwd, 'withCwd: cwd');
  return (_ctx, spec) => {
    setProcess(spec).cwd = cwd;
  };
}

/**
 * Gives the process a terminal (default `true`). runc then needs a console: `runc run` in the foreground
 * provides one, a detached container needs a console socket.
 */
export function withTTY(enabled = true): SpecOpt {
  return (_ctx, spec) => {
    setProcess(spec).terminal = enabled;
  };
}

/** Sets the no_new_privs bit of the process (default `true`; containerd's default spec already sets it). */
export function withNoNewPrivileges(enabled = true): SpecOpt {
  return (_ctx, spec) => {
    setProcess(spec).noNewPrivileges = enabled;
  };
}

/** A requested resource limit; `type` may be `nofile`, `NOFILE` or `RLIMIT_NOFILE`; `Infinity` means unlimited. */
export interface RlimitRequest {
  type: string;
  soft: number;
  hard: number;
}

/**
 * Sets resource limits, replacing those of the same type. `generateSpec` clamps every limit to the host's hard
 * limit at the end (a hard limit above it would make runc fail with `setrlimit: Operation not permitted`).
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown type, a negative or non-integer value, or soft above hard.
 */
export function withRlimits(rlimits: readonly RlimitRequest[]): SpecOpt {
  if (!Array.isArray(rlimits)) throw newError('ERR_INVALID_ARGUMENT', 'withRlimits: rlimits must be an array');
  const wanted: PosixRlimit[] = rlimits.map((r) => {
    const type = normalizeRlimitType(r?.type);
    for (const v of [r.soft, r.hard]) {
      if (typeof v !== 'number' || !(v === Infinity || (Number.isSafeInteger(v) && v >= 0))) {
        throw newError('ERR_INVALID_ARGUMENT', `withRlimits: ${type} values must be non-negative integers or Infinity`);
      }
    }
    if (r.soft > r.hard) throw newError('ERR_INVALID_ARGUMENT', `withRlimits: ${type} soft limit is above its hard limit`);
    return { type, soft: r.soft, hard: r.hard };
  });
  return (_ctx, spec) => {
    const proc = setProcess(spec);
    const kept = (proc.rlimits ?? []).filter((r) => !wanted.some((w) => w.type === r.type));
    proc.rlimits = [...kept, ...wanted.map((w) => ({ ...w }))];
  };
}

/** Puts the primary gid first in `additionalGids`, as containerd does, so setgroups(2) never drops it. */
function ensurePrimaryGid(spec: Spec): void {
  const user = setProcess(spec).user;
  const extra = (user.additionalGids ?? []).filter((g) => g !== user.gid);
  user.additionalGids = [user.gid, ...extra];
}

/**
 * Runs the process as `user`: `name`, `uid`, `name:group`, `uid:gid` or a mix, looked up in the rootfs's
 * `/etc/passwd` and `/etc/group` (found inside the rootfs even through symlinks pointing outside it). Resets the
 * supplementary groups to the primary gid; add {@link withAdditionalGids} after it for the user's groups.
 * Needs the rootfs (`generateSpec`'s `rootfs` option or an absolute root path) unless `uid:gid` is given.
 *
 * @throws ERR_INVALID_ARGUMENT for a malformed user; ERR_USER_NOT_FOUND for an unknown name or group;
 *   ERR_FAILED_PRECONDITION without a rootfs to look in; the read errors of the rootfs's files.
 */
export function withUser(user: string): SpecOpt {
  checkString(user, 'withUser: user');
  return async (ctx, spec) => {
    const { uid, gid } = await resolveUser(rootfsOf(ctx, spec), user, { signal: ctx.signal });
    setProcess(spec).user = { ...spec.process!.user, uid, gid, additionalGids: [] };
    ensurePrimaryGid(spec);
  };
}

/**
 * Sets the supplementary groups from the rootfs's `/etc/group`: every group listing the user as a member, after
 * the primary gid. `user` is a name or uid; default: the process's current uid.
 *
 * @throws ERR_INVALID_ARGUMENT for a malformed user; ERR_FAILED_PRECONDITION without a rootfs to look in; the
 *   read errors of the rootfs's files.
 */
export function withAdditionalGids(user?: string): SpecOpt {
  if (user !== undefined) checkString(user, 'withAdditionalGids: user');
  return async (ctx, spec) => {
    const rootfs = rootfsOf(ctx, spec);
    if (rootfs === undefined) {
      throw newError('ERR_FAILED_PRECONDITION', 'withAdditionalGids needs the rootfs (pass options.rootfs or an absolute root path)');
    }
    const proc = setProcess(spec);
    const gids = await lookupSupplementaryGids(rootfs, user ?? String(proc.user.uid), { signal: ctx.signal });
    proc.user.additionalGids = gids;
    ensurePrimaryGid(spec);
  };
}
