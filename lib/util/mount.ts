import { newError } from '../errors/index.js';
import { runTool } from './exec.js';
import { readMountInfo } from './mountinfo.js';

// Node has no mount(2)/umount(2): util-linux `mount` and `umount` are spawned here, in this one place. Mounts
// happen once per container or per test, so a spawn each (a few ms) is fine.

/** What to mount: the fields of `oci/mount`'s `Mount` that `mount(8)` needs (util may not import oci). */
export interface MountSpec {
  /** Filesystem type: `overlay`, `bind`, `tmpfs`… */
  type: string;
  /** A device, a directory for `bind`, or a label such as `overlay`. */
  source: string;
  /** Options as `mount -o` takes them (`ro`, `rbind`, `lowerdir=…`); none may contain a comma. */
  options: readonly string[];
}

/** Options of {@link mount}, {@link unmount} and {@link mountsUnder}. */
export interface MountToolOptions {
  /** Cancels the call; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of {@link unmount}. */
export interface UnmountOptions extends MountToolOptions {
  /** Detach lazily (`umount -l`), for a mount still busy. Default false. */
  lazy?: boolean;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\0'))
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a non-empty string without NUL`);
  return value;
}

/**
 * The `mount(8)` argv for `spec` at `target`, the one builder (`oci`'s `mountArgs` is this). A `bind` type gets
 * no `-t` and a `bind` option unless it has `bind` or `rbind` (`-t bind -o ro` fails: the kernel has no `bind`
 * filesystem); `ro` on a bind is applied by util-linux's remount after the bind (MS_REMOUNT|MS_BIND|MS_RDONLY,
 * as runc does), since the kernel ignores MS_RDONLY on the bind itself.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty field or an option holding a comma or NUL.
 */
export function mountToolArgs(spec: MountSpec, target: string): string[] {
  const type = text(spec?.type, 'mount.type');
  const source = text(spec.source, 'mount.source');
  const where = text(target, 'target');
  if (!Array.isArray(spec.options)) throw newError('ERR_INVALID_ARGUMENT', 'mount.options must be an array of strings');
  const options = spec.options.map((option, i) => {
    text(option, `mount.options[${i}]`);
    if (option.includes(',')) throw newError('ERR_INVALID_ARGUMENT', `mount.options[${i}] must not contain a comma: mount(8) would split it`);
    return option;
  });
  const args: string[] = [];
  if (type === 'bind') {
    if (!options.includes('bind') && !options.includes('rbind')) options.unshift('bind');
  } else {
    args.push('-t', type);
  }
  if (options.length > 0) args.push('-o', options.join(','));
  args.push('--', source, where);
  return args;
}

/**
 * Mounts `spec` at the existing directory `target` with util-linux `mount`.
 *
 * @throws ERR_INVALID_ARGUMENT for a bad spec; ERR_TOOL_MISSING without mount; ERR_TOOL_FAILED when the kernel
 *   refuses (the message carries mount's own one-line reason). Rejects with `signal.reason` on abort.
 */
export async function mount(spec: MountSpec, target: string, options: MountToolOptions = {}): Promise<void> {
  const args = mountToolArgs(spec, target);
  await runTool('mount', args, { signal: options.signal });
}

/**
 * Unmounts `target` with util-linux `umount` (lazily with `lazy`).
 *
 * @throws ERR_INVALID_ARGUMENT for an empty target; ERR_TOOL_MISSING / ERR_TOOL_FAILED (not mounted, busy).
 */
export async function unmount(target: string, options: UnmountOptions = {}): Promise<void> {
  const where = text(target, 'target');
  await runTool('umount', [...(options.lazy ? ['-l'] : []), '--', where], { signal: options.signal });
}

/**
 * Mount points at or under `dir` in this process's mount namespace (from `/proc/self/mountinfo`), deepest first
 * so they can be unmounted in order.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty dir; ERR_IO when mountinfo cannot be read.
 */
export async function mountsUnder(dir: string, options: MountToolOptions = {}): Promise<string[]> {
  const root = text(dir, 'dir').replace(/\/+$/, '') || '/';
  const points: string[] = [];
  for (const { mountPoint: point } of await readMountInfo(options)) {
    if (root === '/' || point === root || point.startsWith(`${root}/`)) points.push(point);
  }
  return points.sort((a, b) => b.length - a.length);
}
