import { toDate } from './convert.js';
import type { ContainerdCallOptions } from './middleware.js';
import type { RpcClients } from './rpc.js';

/** containerd's version, as `ctr version` prints it. */
export interface ContainerdVersion {
  version: string;
  revision: string;
}

/** One plugin the daemon loaded (or failed to). */
export interface PluginInfo {
  /** e.g. `io.containerd.snapshotter.v1`. */
  type: string;
  /** e.g. `overlayfs`. */
  id: string;
  requires: string[];
  platforms: Array<{ os: string; architecture: string; variant?: string }>;
  exports: Record<string, string>;
  capabilities: string[];
  /** Set when the plugin failed to initialise: containerd's status code and message. */
  initError?: { code: number; message: string };
}

/** The daemon's identity. */
export interface ServerInfo {
  uuid: string;
  /** Deprecated features in use (containerd ≥ 1.7; empty before). */
  deprecations: Array<{ id: string; message: string; lastOccurrence?: Date }>;
}

/** Version and introspection: what daemon this is and what it loaded. */
export class IntrospectionService {
  /** @internal Built by `ContainerdClient` over its raw gRPC clients, which are not public. */
  constructor(private readonly rpc: Pick<RpcClients, 'version' | 'introspection'>) {}

  /** The daemon's version. Throws ERR_CONTAINERD_UNAVAILABLE when it cannot be reached. */
  async version(options: ContainerdCallOptions = {}): Promise<ContainerdVersion> {
    const r = await this.rpc.version.version({}, options);
    return { version: r.version, revision: r.revision };
  }

  /** The plugins, optionally filtered (`type==io.containerd.snapshotter.v1`, alternatives ORed). */
  async plugins(filters: string[] = [], options: ContainerdCallOptions = {}): Promise<PluginInfo[]> {
    const r = await this.rpc.introspection.plugins({ filters }, options);
    return r.plugins.map((p) => {
      const out: PluginInfo = {
        type: p.type,
        id: p.id,
        requires: p.requires,
        platforms: p.platforms.map((pl) => ({ os: pl.os, architecture: pl.architecture, ...(pl.variant ? { variant: pl.variant } : {}) })),
        exports: { ...p.exports },
        capabilities: p.capabilities,
      };
      if (p.initErr !== undefined && p.initErr.code !== 0) out.initError = { code: p.initErr.code, message: p.initErr.message };
      return out;
    });
  }

  /** The daemon's uuid and deprecation warnings. */
  async server(options: ContainerdCallOptions = {}): Promise<ServerInfo> {
    const r = await this.rpc.introspection.server({}, options);
    return {
      uuid: r.uuid,
      deprecations: r.deprecations.map((d) => ({ id: d.id, message: d.message, lastOccurrence: toDate(d.lastOccurrence) })),
    };
  }
}
