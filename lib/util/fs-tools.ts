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
