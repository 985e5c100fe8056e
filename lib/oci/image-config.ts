import type { Digest } from './digest.js';
import type { Platform } from './platform.js';

/**
 * Docker's healthcheck extension of the image config (not in the OCI spec; written by `docker build`).
 * Durations are in nanoseconds.
 */
export interface HealthConfig {
  /** `[]` inherit, `["NONE"]` disabled, `["CMD", args…]` exec, `["CMD-SHELL", command]` run with the shell. */
  Test?: string[] | null;
  /** Time between checks, in nanoseconds; 0 means inherit. */
  Interval?: number;
  /** Time before a check is considered hung, in nanoseconds; 0 means inherit. */
  Timeout?: number;
  /** Grace period after start during which failures do not count, in nanoseconds. */
  StartPeriod?: number;
  /** Time between checks during the start period, in nanoseconds. */
  StartInterval?: number;
  /** Consecutive failures needed to report unhealthy; 0 means inherit. */
  Retries?: number;
}

/**
 * The execution parameters an image suggests for its containers (the `config` member of an image config).
 * Docker writes `null` for empty members, so every member may be `null`.
 */
export interface ImageRunConfig {
  /** `user`, `uid`, `user:group`, `uid:gid`, `uid:group` or `user:gid`. */
  User?: string | null;
  /** Ports to expose, keyed `port/tcp`, `port/udp` or `port` (tcp); values are empty objects. */
  ExposedPorts?: Record<string, object> | null;
  /** `VAR=value` entries. */
  Env?: string[] | null;
  /** The command run as the container's entrypoint. */
  Entrypoint?: string[] | null;
  /** Default arguments to the entrypoint. */
  Cmd?: string[] | null;
  /** Paths where the container should have volumes; values are empty objects. */
  Volumes?: Record<string, object> | null;
  /** The working directory of the container's process. */
  WorkingDir?: string | null;
  /** Arbitrary metadata. */
  Labels?: Record<string, string> | null;
  /** The signal that stops the container, e.g. `SIGTERM` or `15`. */
  StopSignal?: string | null;
  /** Windows only: Cmd/Entrypoint are already escaped. Deprecated by the OCI spec. */
  ArgsEscaped?: boolean | null;
  /** Docker extension: the healthcheck. */
  Healthcheck?: HealthConfig | null;
  /** Docker extension: the shell used by the shell forms of RUN, CMD and ENTRYPOINT. */
  Shell?: string[] | null;
  /** Docker extension: instructions run when the image is used as a base. */
  OnBuild?: string[] | null;
}

/** The layer list of an image config, by uncompressed digest. */
export interface RootFS {
  /** Always `layers`. */
  type: 'layers';
  /** The digests of the uncompressed layer tars (diff IDs), base first. */
  diff_ids: Digest[];
}

/** One entry of an image's build history. */
export interface HistoryEntry {
  /** When the step ran (RFC 3339). */
  created?: string | null;
  /** The command that made the step, e.g. `/bin/sh -c #(nop) CMD ["sh"]`. */
  created_by?: string | null;
  /** Who made the step. */
  author?: string | null;
  /** A free-form comment. */
  comment?: string | null;
  /** Whether the step made no layer (so this entry has no matching diff ID). */
  empty_layer?: boolean | null;
}

/**
 * An image configuration (OCI image-spec `config.md`, compatible with Docker's `application/vnd.docker.container.
 * image.v1+json`). Parsed configs keep any extra fields (Docker's `container_config`, `docker_version`…).
 */
export interface ImageConfig {
  /** When the image was created (RFC 3339). */
  created?: string | null;
  /** Who made the image. */
  author?: string | null;
  /** CPU architecture (GOARCH value), e.g. `amd64`. */
  architecture: string;
  /** Operating system (GOOS value), e.g. `linux`. */
  os: string;
  /** Operating system version (Windows). */
  'os.version'?: string | null;
  /** Required OS features (Windows). */
  'os.features'?: string[] | null;
  /** CPU variant, e.g. `v7`. */
  variant?: string | null;
  /** Suggested execution parameters. */
  config?: ImageRunConfig | null;
  /** The layers, by diff ID. */
  rootfs: RootFS;
  /** Build history, oldest first. */
  history?: HistoryEntry[] | null;
}

/** The platform an image config declares (`os`, `architecture`, `variant`). */
export function configPlatform(config: Pick<ImageConfig, 'os' | 'architecture' | 'variant'>): Platform {
  return { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
}
