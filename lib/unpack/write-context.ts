import { logger } from '../util/debug.js';
import { setXattr } from '../util/fs-tools.js';
import type { RootTree } from './root-tree.js';
import type { TarEntry } from './tar-parser.js';
import type { WriteScheduler } from './write-scheduler.js';

const log = logger('unpack:apply');

/** What the appliers of a layer writer's entries share; made once per layer. */
export interface WriteContext {
  readonly tree: RootTree;
  readonly scheduler: WriteScheduler;
  readonly attrs: EntryAttrs;
  readonly signal: AbortSignal | undefined;
}

/** Which of an entry's owner, mode and xattrs need a call of their own, for the user this process runs as. */
export class EntryAttrs {
  readonly isRoot: boolean;
  readonly #euid: number;
  readonly #egid: number;
  readonly #umask: number;
  readonly #signal: AbortSignal | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#euid = process.geteuid?.() ?? 0;
    this.#egid = process.getegid?.() ?? 0;
    this.isRoot = this.#euid === 0;
    // Reading the mask is documentation-deprecated (DEP0139) only; it tells when a create mode needs a chmod.
    this.#umask = process.umask();
    this.#signal = signal;
  }

  needsChown(entry: TarEntry): boolean {
    return this.isRoot && (entry.uid !== this.#euid || entry.gid !== this.#egid);
  }

  /** Whether the create mode lost bits: the special ones (never given at create) or whatever the umask masked. */
  needsChmod(entry: TarEntry): boolean {
    return (entry.mode & 0o7000) !== 0 || (entry.mode & this.#umask) !== 0;
  }

  async setXattrs(host: string, entry: TarEntry): Promise<void> {
    for (const [name, value] of entry.xattrs) {
      // A layer must not forge overlayfs metadata (opaque, redirect, metacopy) in an upper dir.
      if (name.startsWith('trusted.overlay.')) {
        log('ignoring xattr %s on %s', name, entry.path);
        continue;
      }
      await setXattr(host, name, value, this.#signal);
    }
  }
}
