import { newError } from '../errors/index.js';

/**
 * A filesystem mount to perform, as containerd passes it around: snapshotters produce these (an `overlay` with
 * its lowerdir/upperdir/workdir options, or a `bind` of a directory) and the runtime or shim performs them on the
 * container's rootfs. It is containerd's `Mount` shape, so it converts one-to-one to containerd's API type.
 */
export interface Mount {
  /** Filesystem type, e.g. `overlay`, `bind`, `tmpfs`, `ext4`. */
  type: string;
  /** What to mount: a device, a directory for `bind`, or a label such as `overlay`. */
  source: string;
  /** Where to mount it, when the producer decides; usually left to the consumer (the rootfs directory). */
  target?: string;
  /** Mount options as `mount -o` takes them, e.g. `ro`, `rbind`, `lowerdir=/a:/b`. */
  options: string[];
}

function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw newError('ERR_INVALID_ARGUMENT', `${name} must be a non-empty string`);
  }
  // A NUL cannot cross execve: the kernel would cut the argument short.
  if (value.includes('\0')) throw newError('ERR_INVALID_ARGUMENT', `${name} must not contain a NUL byte`);
  return value;
}

/**
 * The arguments for util-linux `mount` that perform `mount`: `['-t', type, '-o', options, '--', source, target]`,
 * with `-o` left out when there are no options. Pure: it runs nothing (pass the result to `runTool('mount', …)`).
 * Options are joined with commas as `mount(8)` expects, so an option must not itself contain a comma.
 *
 * @param target where to mount; defaults to `mount.target`.
 * @throws ERR_INVALID_ARGUMENT when type, source or the target is missing or empty, or an option is empty or
 *   contains a comma or NUL.
 */
export function mountArgs(mount: Mount, target: string | undefined = mount.target): string[] {
  const type = requireText(mount.type, 'mount.type');
  const source = requireText(mount.source, 'mount.source');
  const where = requireText(target, 'target (or mount.target)');
  if (!Array.isArray(mount.options)) throw newError('ERR_INVALID_ARGUMENT', 'mount.options must be an array of strings');
  mount.options.forEach((option, i) => {
    requireText(option, `mount.options[${i}]`);
    if (option.includes(',')) {
      throw newError('ERR_INVALID_ARGUMENT', `mount.options[${i}] must not contain a comma: mount(8) would split it`);
    }
  });
  const args = ['-t', type];
  if (mount.options.length > 0) args.push('-o', mount.options.join(','));
  // `--` so that a source or target starting with "-" is never read as a flag.
  args.push('--', source, where);
  return args;
}

/** Whether `mount` is read-only (its options hold `ro`; later `rw` wins, as with `mount -o`). */
export function isReadonlyMount(mount: Mount): boolean {
  let readonly = false;
  for (const option of mount.options) {
    if (option === 'ro') readonly = true;
    else if (option === 'rw') readonly = false;
  }
  return readonly;
}
