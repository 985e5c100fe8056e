/**
 * Decoding `runc events`: one JSON object per line, `{"type":"stats"|"oom",…,"id":…,"data":…}`. Stats are mapped
 * from runc's snake_case JSON to {@link Stats}; a line that does not decode becomes an `error` event and the
 * stream goes on (go-runc does the same), so one odd line never ends monitoring.
 * @module
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { newError } from '../errors/index.js';
import type { BlkioEntry, MemoryEntry, NetworkInterfaceStats, RuncEvent, Stats } from './types.js';

type Json = Record<string, unknown>;

const LINE_CAP = 1024;

function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function nums(value: unknown): number[] {
  return Array.isArray(value) ? value.map(num) : [];
}

function memoryEntry(value: unknown): MemoryEntry {
  const v = obj(value);
  return { limit: num(v.limit), usage: num(v.usage), max: num(v.max), failcnt: num(v.failcnt) };
}

function blkioList(value: unknown): BlkioEntry[] {
  if (!Array.isArray(value)) return [];
  return value.map((e) => {
    const v = obj(e);
    return { major: num(v.major), minor: num(v.minor), op: typeof v.op === 'string' ? v.op : '', value: num(v.value) };
  });
}

// runc's NetworkInterface has no json tags, so its keys are Go's field names.
function networkInterface(value: unknown): NetworkInterfaceStats {
  const v = obj(value);
  return {
    name: typeof v.Name === 'string' ? v.Name : '',
    rxBytes: num(v.RxBytes),
    rxPackets: num(v.RxPackets),
    rxErrors: num(v.RxErrors),
    rxDropped: num(v.RxDropped),
    txBytes: num(v.TxBytes),
    txPackets: num(v.TxPackets),
    txErrors: num(v.TxErrors),
    txDropped: num(v.TxDropped),
  };
}

/** Maps the `data` of a runc stats event (runc's `types.Stats` JSON) to {@link Stats}; missing fields read as 0. */
export function parseStats(data: unknown): Stats {
  const d = obj(data);
  const cpu = obj(d.cpu);
  const usage = obj(cpu.usage);
  const throttling = obj(cpu.throttling);
  const memory = obj(d.memory);
  const pids = obj(d.pids);
  const blkio = obj(d.blkio);
  const hugetlb: Stats['hugetlb'] = {};
  for (const [size, entry] of Object.entries(obj(d.hugetlb))) {
    const e = obj(entry);
    hugetlb[size] = { usage: num(e.usage), max: num(e.max), failcnt: num(e.failcnt) };
  }
  const raw: Record<string, number> = {};
  for (const [key, value] of Object.entries(obj(memory.raw))) if (typeof value === 'number') raw[key] = value;
  return {
    cpu: {
      usage: {
        total: num(usage.total),
        perCpu: nums(usage.percpu),
        perCpuKernel: nums(usage.percpu_kernel),
        perCpuUser: nums(usage.percpu_user),
        kernel: num(usage.kernel),
        user: num(usage.user),
      },
      throttling: { periods: num(throttling.periods), throttledPeriods: num(throttling.throttled_periods), throttledTime: num(throttling.throttled_time) },
    },
    memory: {
      cache: num(memory.cache),
      usage: memoryEntry(memory.usage),
      swap: memoryEntry(memory.swap),
      kernel: memoryEntry(memory.kernel),
      kernelTcp: memoryEntry(memory.kernelTCP),
      raw,
    },
    pids: { current: num(pids.current), limit: num(pids.limit) },
    blkio: {
      ioServiceBytesRecursive: blkioList(blkio.ioServiceBytesRecursive),
      ioServicedRecursive: blkioList(blkio.ioServicedRecursive),
      ioQueuedRecursive: blkioList(blkio.ioQueueRecursive),
      ioServiceTimeRecursive: blkioList(blkio.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blkioList(blkio.ioWaitTimeRecursive),
      ioMergedRecursive: blkioList(blkio.ioMergedRecursive),
      ioTimeRecursive: blkioList(blkio.ioTimeRecursive),
      sectorsRecursive: blkioList(blkio.sectorsRecursive),
    },
    hugetlb,
    networkInterfaces: Array.isArray(d.network_interfaces) ? d.network_interfaces.map(networkInterface) : [],
  };
}

function errorEvent(line: string, why: string): RuncEvent {
  const shown = line.slice(0, LINE_CAP);
  return {
    type: 'error',
    line: shown,
    error: newError('ERR_RUNC_FAILED', `runc events printed a line that is not an event: ${why}`, { details: { line: shown } }),
  };
}

/** Decodes one line of `runc events`. Never throws: a bad line gives an `error` event. */
export function parseEventLine(line: string): RuncEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return errorEvent(line, (err as Error).message);
  }
  const v = obj(value);
  if (typeof v.type !== 'string' || typeof v.id !== 'string') return errorEvent(line, 'no "type" or "id"');
  if (v.type === 'stats') return { type: 'stats', id: v.id, stats: parseStats(v.data) };
  if (v.type === 'oom') return { type: 'oom', id: v.id };
  return { type: 'unknown', id: v.id, eventType: v.type, data: v.data };
}

/** Decodes a stream of event lines (runc's stdout) lazily, one event per non-empty line. */
export async function* decodeEvents(stdout: Readable): AsyncGenerator<RuncEvent, void, undefined> {
  const lines = createInterface({ input: stdout, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line.trim() !== '') yield parseEventLine(line);
    }
  } finally {
    lines.close();
  }
}
