// Reading the real process tree from /proc: what `pstree` shows, for the examples.
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessNode {
  pid: number;
  ppid: number;
  argv: string[];
}

/** Every process visible in /proc now (those that vanish while being read are skipped). */
export async function processTable(): Promise<Map<number, ProcessNode>> {
  const table = new Map<number, ProcessNode>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      // The command name may hold spaces and parentheses: the fields that follow start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(entry), { pid: Number(entry), ppid, argv });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** The shim serving container `id` (its `-id` argument), if one runs. */
export function findShim(table: Map<number, ProcessNode>, id: string): ProcessNode | undefined {
  return [...table.values()].find((p) => p.argv[0]?.endsWith('containerd-shim-runc-v2') && p.argv[p.argv.indexOf('-id') + 1] === id);
}

/** `pid` and its descendants as indented lines, each with a note from `notes` when there is one. */
export function drawTree(table: Map<number, ProcessNode>, pid: number, notes: Map<number, string>, depth = 0): string[] {
  const node = table.get(pid);
  if (node === undefined) return [];
  const name = (node.argv[0] ?? '?').split('/').pop();
  const args = node.argv.slice(1).join(' ');
  const text = `${name}${args ? ` ${args.length > 60 ? `${args.slice(0, 57)}…` : args}` : ''}`;
  const lines = [`${'    '.repeat(depth)}${depth > 0 ? '└─ ' : ''}${text}  [pid ${pid}, parent ${node.ppid}]${notes.has(pid) ? `  ← ${notes.get(pid)}` : ''}`];
  for (const child of [...table.values()].filter((p) => p.ppid === pid).sort((a, b) => a.pid - b.pid))
    lines.push(...drawTree(table, child.pid, notes, depth + 1));
  return lines;
}
