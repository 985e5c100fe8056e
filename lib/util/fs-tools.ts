import { runTool } from './exec.js';

// What Node 20 lacks (mknod, setxattr), done with the standard Linux programs (coreutils, Debian's attr). Image
// layers carry few devices and xattrs, so a spawn each (a few ms) is fine; a per-file cost would call for an
// addon. Callers resolve paths inside their root first; neither program follows a symlink in the last component
// (mknod creates it; setfattr runs with -h). FIFOs: see fifo.ts.

/** Creates a character or block device node with `mknod` (root only). Throws ERR_TOOL_MISSING / ERR_TOOL_FAILED. */
export async function makeDevice(path: string, kind: 'char' | 'block', major: number, minor: number, mode: number, signal?: AbortSignal): Promise<void> {
  await runTool('mknod', ['-m', (mode & 0o777).toString(8), '--', path, kind === 'char' ? 'c' : 'b', String(major), String(minor)], { signal });
}

/** Sets one extended attribute on `path` itself (not a symlink's target) with `setfattr -h`. Throws ERR_TOOL_MISSING / ERR_TOOL_FAILED. */
export async function setXattr(path: string, name: string, value: Buffer, signal?: AbortSignal): Promise<void> {
  // Hex keeps binary values (security.capability) intact through argv.
  const valueArgs = value.length === 0 ? [] : ['-v', `0x${value.toString('hex')}`];
  await runTool('setfattr', ['-h', '-n', name, ...valueArgs, '--', path], { signal });
}

// getfattr escapes unusual bytes in paths as \ooo (octal); the bytes are the path's raw (UTF-8) bytes.
function unescapeGetfattr(path: string): string {
  return Buffer.from(
    path.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))),
    'latin1',
  ).toString('utf8');
}

/**
 * Every extended attribute under `root` (root included, symlinks not followed), read with one `getfattr -R`
 * run rather than a spawn per file: absolute path → attribute name → raw value. Paths without xattrs are absent.
 * All namespaces the caller may read are listed (`trusted.*` too when root).
 *
 * @throws ERR_TOOL_MISSING without getfattr (Debian's attr); ERR_TOOL_FAILED when it fails. Rejects with
 *   `signal.reason` on abort.
 */
export async function readXattrTree(root: string, signal?: AbortSignal): Promise<Map<string, Map<string, Buffer>>> {
  const { stdout } = await runTool('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', root], { signal });
  const result = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      result.set(unescapeGetfattr(line.slice('# file: '.length)), current);
    } else if (current && line !== '') {
      const eq = line.indexOf('=');
      if (eq === -1) current.set(line, Buffer.alloc(0));
      else current.set(line.slice(0, eq), Buffer.from(line.slice(eq + 1).replace(/^0x/, ''), 'hex'));
    }
  }
  return result;
}
