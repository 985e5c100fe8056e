import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '../oci/index.js';
import type { ContainerStats, TopProcess, TopResult } from './engine-types.js';

// docker top and docker stats from /proc and the container's cgroup files (the task's metrics come as protobuf the
// engine does not decode): the processes the task lists, and its cgroup found through its init's /proc/<pid>/cgroup.

const CLK_TCK = 100; // USER_HZ on every Linux architecture Node runs on
const PAGE_SIZE = 4096;
const CGROUP_ROOT = '/sys/fs/cgroup';
const UNLIMITED = 2 ** 62;

const read = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

async function bootTime(): Promise<number> {
  const stat = (await read('/proc/stat')) ?? '';
  return Number(/^btime (\d+)/m.exec(stat)?.[1] ?? 0);
}

/** One process as /proc shows it; undefined once it is gone. */
async function processInfo(pid: number, btime: number): Promise<TopProcess | undefined> {
  const stat = await read(`/proc/${pid}/stat`);
  const status = await read(`/proc/${pid}/status`);
  if (stat === undefined || status === undefined) return undefined;
  const close = stat.lastIndexOf(')');
  const name = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  const cmdline = ((await read(`/proc/${pid}/cmdline`)) ?? '').split('\0').filter(Boolean).join(' ');
  return {
    pid,
    ppid: Number(f[1]),
    uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
    state: f[0] ?? '?',
    cpuSeconds: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    rssBytes: Number(f[21]) * PAGE_SIZE,
    startedAt: new Date((btime + Number(f[19]) / CLK_TCK) * 1000),
    command: cmdline === '' ? `[${name}]` : cmdline,
  };
}

const two = (n: number): string => String(Math.floor(n)).padStart(2, '0');

/** docker top: the task's processes with ps -ef's columns. @internal */
export async function topOf(task: Task, signal?: AbortSignal): Promise<TopResult> {
  const btime = await bootTime();
  const processes: TopProcess[] = [];
  for (const { pid } of await task.pids({ signal })) {
    const info = await processInfo(pid, btime);
    if (info !== undefined) processes.push(info);
  }
  processes.sort((a, b) => a.pid - b.pid);
  const rows = processes.map((p) => {
    const t = p.cpuSeconds;
    return [
      String(p.uid),
      String(p.pid),
      String(p.ppid),
      '0',
      `${two(p.startedAt.getHours())}:${two(p.startedAt.getMinutes())}`,
      '?',
      `${two(t / 3600)}:${two((t / 60) % 60)}:${two(t % 60)}`,
      p.command,
    ];
  });
  return { processes, Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: rows };
}

/** The cgroup dirs of `pid` by controller (v1), or under '' (the v2 unified hierarchy). */
async function cgroupDirs(pid: number): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  const unified = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
  for (const line of ((await read(`/proc/${pid}/cgroup`)) ?? '').split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') {
      if (unified) dirs.set('', join(CGROUP_ROOT, m[2]!));
      continue;
    }
    for (const controller of m[1]!.split(',')) dirs.set(controller, join(CGROUP_ROOT, controller, m[2]!));
  }
  return dirs;
}

const num = (text: string | undefined): number | undefined => {
  const n = Number(text?.trim());
  return text === undefined || text.trim() === 'max' || !Number.isFinite(n) ? undefined : n;
};
const limit = (n: number | undefined): number | undefined => (n === undefined || n >= UNLIMITED ? undefined : n);

/** docker stats --no-stream: one reading of the container's cgroup. @internal */
export async function statsOf(task: Task, pid: number, signal?: AbortSignal): Promise<ContainerStats> {
  const dirs = await cgroupDirs(pid);
  const v2 = dirs.get('');
  let memory: number | undefined;
  let memoryMax: number | undefined;
  let cpu: number | undefined;
  let pids: number | undefined;
  let pidsMax: number | undefined;
  if (v2 !== undefined) {
    memory = num(await read(join(v2, 'memory.current')));
    memoryMax = num(await read(join(v2, 'memory.max')));
    const usec = /^usage_usec (\d+)/m.exec((await read(join(v2, 'cpu.stat'))) ?? '')?.[1];
    cpu = usec === undefined ? undefined : Number(usec) * 1000;
    pids = num(await read(join(v2, 'pids.current')));
    pidsMax = num(await read(join(v2, 'pids.max')));
  } else {
    const mem = dirs.get('memory');
    const acct = dirs.get('cpuacct');
    const pidsDir = dirs.get('pids');
    if (mem !== undefined) {
      memory = num(await read(join(mem, 'memory.usage_in_bytes')));
      memoryMax = num(await read(join(mem, 'memory.limit_in_bytes')));
    }
    if (acct !== undefined) cpu = num(await read(join(acct, 'cpuacct.usage')));
    if (pidsDir !== undefined) {
      pids = num(await read(join(pidsDir, 'pids.current')));
      pidsMax = num(await read(join(pidsDir, 'pids.max')));
    }
  }
  pids ??= (await task.pids({ signal })).length;
  return { read: new Date(), memoryUsageBytes: memory ?? 0, memoryLimitBytes: limit(memoryMax), cpuUsageNanos: cpu ?? 0, pids, pidsLimit: limit(pidsMax) };
}

/**
 * Whether the OOM killer killed a process in the cgroup at `cgroupsPath` (cgroupfs driver), from its `oom_kill`
 * count; read after the exit and before the task's removal deletes the cgroup. The shim's oom event may come
 * after the exit, so this is the check that does not race. @internal
 */
export async function cgroupOomKilled(cgroupsPath: string | undefined): Promise<boolean> {
  if (cgroupsPath === undefined || !cgroupsPath.startsWith('/') || cgroupsPath.includes('..')) return false;
  const unified = existsSync(join(CGROUP_ROOT, 'cgroup.controllers'));
  const text = unified
    ? await read(join(CGROUP_ROOT, cgroupsPath, 'memory.events'))
    : await read(join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.oom_control'));
  return Number(/^oom_kill (\d+)/m.exec(text ?? '')?.[1] ?? 0) > 0;
}
