import { mountToolArgs } from '../util/mount.js';

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

/**
 * The arguments for util-linux `mount` that perform `mount`: `['-t', type, '-o', options, '--', source, target]`,
 * with `-o` left out when there are no options. Pure: it runs nothing (pass the result to `runTool('mount', …)`).
 * Options are joined with commas as `mount(8)` expects, so an option must not itself contain a comma.
 * The same argv as `util`'s `mount()` runs (one builder, `mountToolArgs`): a `bind` mount gets no `-t` (the
 * kernel has no `bind` filesystem) and a `bind` option unless it has `bind` or `rbind`; `ro` on a bind is applied
 * by util-linux's remount after the bind, as runc does.
 *
 * @param target where to mount; defaults to `mount.target`.
 * @throws ERR_INVALID_ARGUMENT when type, source or the target is missing or empty, or an option is empty or
 *   contains a comma or NUL.
 */
export function mountArgs(mount: Mount, target: string | undefined = mount.target): string[] {
  return mountToolArgs(mount, target as string);
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
