import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoOf, fsError } from '../util/fs-error.js';

// Design. One file per name, `<dir>/<name>`, holding the id of the container that owns it. A name is taken by
// hard-linking a complete temp file to that path: link() fails with EEXIST when the name exists, across
// processes, and the file never appears half-written. A name file pointing to an id is only ever removed by a
// holder of that id's container lock, so a compare-then-unlink under that lock cannot remove someone else's
// reservation.

/** The container names of one root, as files under `dir`. Names passed in are normalised (no leading '/'). */
export class NameTable {
  constructor(readonly dir: string) {}

  /** Takes `name` for `id`; false when the name file exists already (whoever holds it). */
  async tryReserve(name: string, id: string): Promise<boolean> {
    const path = join(this.dir, name);
    const tmp = join(this.dir, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, `${id}\n`, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      throw fsError(err, 'reserve container name', path);
    }
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') return false;
      throw fsError(err, 'reserve container name', path);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** What `<dir>/<name>` holds, trimmed: normally an id, garbage after a power loss; undefined when the name is free. */
  async holder(name: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENAMETOOLONG') return undefined;
      throw fsError(err, 'read container name', join(this.dir, name));
    }
    return text.trim();
  }

  /** The names that have a file, in no order (temp files of a reservation under way are left out). */
  async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => !n.startsWith('.'));
    } catch (err) {
      throw fsError(err, 'list container names in', this.dir);
    }
  }

  /**
   * Removes the file of `name` if it still holds exactly `content` (a leftover judged by the caller). The file is
   * moved aside first and put back when it turns out to be a fresh reservation made in between.
   */
  async removeIf(name: string, content: string): Promise<void> {
    const path = join(this.dir, name);
    const aside = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.stale`);
    try {
      await rename(path, aside);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw fsError(err, 'remove container name', path);
    }
    const moved = (await readFile(aside, 'utf8').catch(() => '')).trim();
    if (moved !== content) await link(aside, path).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }

  /** Frees `name` if it is reserved for `id`. Call it holding `id`'s container lock. */
  async release(name: string, id: string): Promise<void> {
    const path = join(this.dir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw fsError(err, 'read container name', path);
    }
    if (text.trim() !== id) return;
    try {
      await unlink(path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw fsError(err, 'release container name', path);
    }
  }
}
