import { normalizeReference } from '../oci/index.js';
import type { EngineBackend } from './backend.js';
import { readContainerConfig, type SavedContainerConfig } from './container-config.js';
import type { ContainerStore } from './container-store.js';
import { applyCreateDefaults } from './create-options.js';
import type { ContainerInspect, ContainerSummary, InspectMount, ListFilters, ListOptions } from './engine-types.js';
import { isLive } from './lifecycle.js';
import { type ContainerRecord, ZERO_TIME } from './record.js';

// docker inspect and docker ps over the records, each record settled first (lazy reconciliation: a task that exited
// while nobody watched gets its exit recorded by whoever looks).

/**
 * What reading containers needs: the Engine's Lifecycle, or a ContainerReader (no backend, for processes that only
 * read). `settle` brings a record up to date as far as the view can. @internal
 */
export interface RecordView {
  readonly store: ContainerStore;
  readonly backend: Pick<EngineBackend, 'logPath'>;
  settle(reference: string, signal?: AbortSignal): Promise<ContainerRecord | undefined>;
}

async function savedOf(life: RecordView, record: ContainerRecord): Promise<SavedContainerConfig | undefined> {
  return readContainerConfig(life.store.containerDir(record.id), record.id).catch(() => undefined);
}

function mountsOf(record: ContainerRecord): InspectMount[] {
  return (record.config.mounts ?? []).map((m) =>
    m.type === 'bind'
      ? {
          Type: 'bind',
          Source: m.source,
          Destination: m.target,
          Mode: m.readonly ? 'ro' : '',
          RW: m.readonly !== true,
          Propagation: m.propagation ?? 'rprivate',
        }
      : { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: m.readonly !== true, Propagation: '' },
  );
}

/** The inspect view of a record. @internal */
export async function inspectRecord(life: RecordView, record: ContainerRecord): Promise<ContainerInspect> {
  const saved = await savedOf(life, record);
  const o = applyCreateDefaults(record.config);
  const r = o.resources ?? {};
  const s = record.state;
  const args = saved?.spec.process?.args ?? [];
  return {
    Id: record.id,
    Name: `/${record.name}`,
    Created: record.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    Image: record.image.id,
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Config: {
      Hostname: saved?.config.Hostname ?? '',
      User: saved?.config.User ?? '',
      Tty: o.tty,
      OpenStdin: o.stdin,
      Env: saved?.config.Env ?? [],
      Cmd: saved?.config.Cmd ?? [],
      Entrypoint: saved?.config.Entrypoint ?? null,
      Image: record.image.name,
      WorkingDir: saved?.config.WorkingDir ?? '',
      Labels: saved?.config.Labels ?? { ...o.labels },
      StopSignal: saved?.config.StopSignal ?? o.stopSignal ?? 'SIGTERM',
      StopTimeout: o.stopTimeout,
    },
    HostConfig: {
      AutoRemove: o.autoRemove,
      Privileged: o.privileged,
      ReadonlyRootfs: o.readonlyRootfs,
      NetworkMode: o.network,
      Init: o.init,
      CapAdd: o.capAdd ?? [],
      CapDrop: o.capDrop ?? [],
      Memory: r.memory ?? 0,
      MemorySwap: r.memorySwap ?? 0,
      NanoCpus: Math.round((r.cpus ?? 0) * 1e9),
      CpuShares: r.cpuShares ?? 0,
      CpusetCpus: r.cpusetCpus ?? '',
      PidsLimit: r.pidsLimit ?? 0,
    },
    Mounts: mountsOf(record),
    LogPath: life.backend.logPath(record.id),
  };
}

/** The record of `reference`, settled. @internal */
export async function settledRecord(life: RecordView, reference: string, signal?: AbortSignal): Promise<ContainerRecord> {
  return (await life.settle(reference, signal)) ?? life.store.resolve(reference, { signal });
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  return `${Math.round(h / 24)} days`;
}

/** docker ps's Status text. */
function statusText(record: ContainerRecord, now: number): string {
  const s = record.state;
  if (s.status === 'running') return `Up ${ago(s.startedAt, now)}`;
  if (s.status === 'paused') return `Up ${ago(s.startedAt, now)} (Paused)`;
  if (s.status === 'exited') return s.finishedAt === ZERO_TIME ? `Exited (${s.exitCode})` : `Exited (${s.exitCode}) ${ago(s.finishedAt, now)} ago`;
  return s.status[0]!.toUpperCase() + s.status.slice(1);
}

function normalized(ref: string): string {
  try {
    return normalizeReference(ref).toString();
  } catch {
    return ref;
  }
}

function matches(record: ContainerRecord, labels: Record<string, string>, f: ListFilters): boolean {
  const any = <T>(list: T[] | undefined, test: (v: T) => boolean): boolean => list === undefined || list.length === 0 || list.some(test);
  return (
    any(f.label, (l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? Object.hasOwn(labels, l) : labels[l.slice(0, eq)] === l.slice(eq + 1) && Object.hasOwn(labels, l.slice(0, eq));
    }) &&
    any(f.status, (s) => record.state.status === s) &&
    any(f.name, (n) => record.name.includes(n.replace(/^\//, ''))) &&
    any(f.id, (i) => record.id.startsWith(i)) &&
    any(
      f.ancestor,
      (a) => record.image.name === normalized(a) || record.image.id === a || record.image.id.replace(/^sha256:/, '').startsWith(a.replace(/^sha256:/, '')),
    )
  );
}

/** docker ps: running containers (all with `all`), newest first, filtered. @internal */
export async function listContainers(life: RecordView, options: ListOptions = {}): Promise<ContainerSummary[]> {
  const { all = false, filters = {}, signal } = options;
  const records: ContainerRecord[] = [];
  for (const listed of await life.store.list({ signal })) {
    const record = isLive(listed) ? await life.settle(listed.id, signal) : listed;
    if (record !== undefined) records.push(record);
  }
  const now = Date.now();
  const rows: ContainerSummary[] = [];
  for (const record of records.sort((a, b) => b.created.localeCompare(a.created))) {
    if (!all && !isLive(record) && filters.status === undefined) continue;
    const saved = await savedOf(life, record);
    const labels = saved?.config.Labels ?? { ...record.config.labels };
    if (!matches(record, labels, filters)) continue;
    rows.push({
      Id: record.id,
      Names: [`/${record.name}`],
      Image: record.image.name,
      ImageID: record.image.id,
      Command: (saved?.spec.process?.args ?? []).join(' '),
      Created: Math.floor(Date.parse(record.created) / 1000),
      State: record.state.status,
      Status: statusText(record, now),
      Labels: labels,
    });
  }
  return rows;
}
