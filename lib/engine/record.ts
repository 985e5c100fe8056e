import type { CreateOptions } from './create-options.js';

/** The states of a container, as docker names them (`docker inspect`'s `State.Status`). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

/** The statuses, in the order docker lists them. */
export const CONTAINER_STATUSES: readonly ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'];

/** The time docker shows for a time that has not happened yet (Go's zero `time.Time`). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** What `docker inspect` shows as `State`, in containerkit's casing. Times are RFC 3339 UTC, {@link ZERO_TIME} when unset. */
export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's init process while it runs; 0 otherwise. */
  pid: number;
  /** Exit code of the last run; 0 before the first. */
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  /** Why the last start or run failed; '' when it did not. */
  error: string;
  /** Whether the last run was killed by the OOM killer. */
  oomKilled: boolean;
}

/** The image a container was created from. */
export interface ContainerImage {
  /** The reference the user gave, normalised (`docker.io/library/busybox:latest`), or the id when given by id. */
  name: string;
  /** The image id: the digest of its config (`sha256:…`). */
  id: string;
  /** The digest of the manifest it was resolved to, when known. */
  digest?: string;
}

/** One container as the store keeps it in `<root>/containers/<id>/record.json`. */
export interface ContainerRecord {
  /** Version of this layout; a store refuses records of a newer one. */
  schemaVersion: 1;
  /** 64 lower-case hex characters; also the name of the container's directory. */
  id: string;
  /** Unique among the root's containers, stored without a leading '/'. */
  name: string;
  /** When the record was made, RFC 3339 UTC. */
  created: string;
  image: ContainerImage;
  config: CreateOptions;
  state: ContainerState;
}

/** The state of a container that was just created. */
export function initialState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, startedAt: ZERO_TIME, finishedAt: ZERO_TIME, error: '', oomKilled: false };
}

function isState(v: unknown): v is ContainerState {
  const s = v as Partial<ContainerState> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    CONTAINER_STATUSES.includes(s.status as ContainerStatus) &&
    Number.isSafeInteger(s.pid) &&
    Number.isSafeInteger(s.exitCode) &&
    typeof s.startedAt === 'string' &&
    typeof s.finishedAt === 'string' &&
    typeof s.error === 'string' &&
    typeof s.oomKilled === 'boolean'
  );
}

/** Why `v` is not a well-formed {@link ContainerRecord}, or undefined when it is. Pure. */
export function recordProblem(v: unknown): string | undefined {
  const r = v as Partial<ContainerRecord> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not an object';
  if (r.schemaVersion !== 1) return `unsupported schemaVersion ${JSON.stringify(r.schemaVersion)}`;
  if (typeof r.id !== 'string' || typeof r.name !== 'string' || typeof r.created !== 'string') return 'id, name or created missing';
  const image = r.image as Partial<ContainerImage> | undefined;
  if (typeof image !== 'object' || image === null || typeof image.name !== 'string' || typeof image.id !== 'string') return 'image missing';
  if (typeof r.config !== 'object' || r.config === null) return 'config missing';
  if (!isState(r.state)) return 'state malformed';
  return undefined;
}
