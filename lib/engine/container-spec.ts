import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { newError } from '../errors/index.js';
import type { ImageConfig } from '../oci/image-config.js';
import type { Spec, SpecMount } from '../oci/runtime-spec.js';
import { DEFAULT_CAPABILITIES, normalizeCapability, readPermittedCapabilities } from '../runtime/spec/capabilities.js';
import { generateSpec } from '../runtime/spec/generate.js';
import { STOP_SIGNAL_ANNOTATION } from '../runtime/spec/opts-image.js';
import { withAnnotations, withCPUShares, withCPUs, withHostNetwork, withHostname, withMemoryLimit, withPidsLimit } from '../runtime/spec/opts-linux.js';
import { bindMount, tmpfsMount, withInit, withMounts, withReadonlyRootfs, withRootPath } from '../runtime/spec/opts-mounts.js';
import { withAdditionalGids, withCwd, withEnv, withNoNewPrivileges, withProcessArgs, withRlimits, withTTY, withUser } from '../runtime/spec/opts-process.js';
import { withCapabilities, withPrivileged } from '../runtime/spec/opts-security.js';
import type { HostRlimits } from '../runtime/spec/rlimits.js';
import { composeSpecOpts, type SpecOpt } from '../runtime/spec/spec-opt.js';
import { errnoOf } from '../util/fs-error.js';
import { logger, mkdirAllInRoot } from '../util/index.js';
import { makeDirs } from '../util/make-dirs.js';
import type { ContainerFiles } from './container-files.js';
import { containerHostname } from './container-files.js';
import { applyCreateDefaults, type ContainerMount, type ContainerResources, type CreateOptions, validateCreateOptions } from './create-options.js';
import { withHostDevices } from './host-devices.js';
import { mergeRunConfig } from './run-config.js';

const log = logger('engine:spec');

/** Where `init: true` finds tini on the host: Debian's `tini` package, static so it runs in any image. */
export const DEFAULT_INIT_BINARY = '/usr/bin/tini-static';
/** Where docker mounts its init in the container, and so do we. */
export const DOCKER_INIT_PATH = '/sbin/docker-init';

/** What {@link buildContainerSpec} needs besides the image and the options. */
export interface ContainerSpecContext {
  /** Host path of the container's root filesystem: users are looked up and the workdir is created there. */
  rootfs: string;
  /** The container's id: letters, digits, `_`, `+`, `-`, `.`. Names its cgroup; its first 12 characters are the default hostname. */
  id: string;
  /** `root.path` of the spec (absolute, or relative to the bundle). Default: `rootfs`. */
  rootPath?: string;
  /** The files of `writeContainerFiles`, bind-mounted at /etc/hosts, /etc/hostname and /etc/resolv.conf. Default: none (the image's own). */
  files?: ContainerFiles;
  /** First element of the cgroup path `/<namespace>/<id>`. Default `containerkit`. */
  namespace?: string;
  /** The static init binary on the host for `init: true`. Default {@link DEFAULT_INIT_BINARY}. */
  initBinary?: string;
  /** Whether the host's memory cgroup accounts swap. Default: detected from /sys/fs/cgroup. */
  swapAccounting?: boolean;
  /** The engine's own limits, which `ulimits` are clamped to. Default: this process's. */
  hostRlimits?: HostRlimits;
  signal?: AbortSignal;
}

const ID_PATTERN = /^[\w+.-]+$/;

function validateContext(ctx: ContainerSpecContext): void {
  if (typeof ctx !== 'object' || ctx === null) throw newError('ERR_INVALID_ARGUMENT', 'context must be an object');
  if (typeof ctx.rootfs !== 'string' || !isAbsolute(ctx.rootfs)) throw newError('ERR_INVALID_ARGUMENT', 'context.rootfs must be an absolute path');
  if (typeof ctx.id !== 'string' || !ID_PATTERN.test(ctx.id) || ctx.id === '.' || ctx.id === '..') {
    throw newError('ERR_INVALID_ARGUMENT', 'context.id must use only letters, digits, "_", "+", "-" and "."');
  }
  if (ctx.files !== undefined) {
    for (const key of ['hostsPath', 'hostnamePath', 'resolvConfPath'] as const) {
      if (typeof ctx.files[key] !== 'string' || !isAbsolute(ctx.files[key]))
        throw newError('ERR_INVALID_ARGUMENT', `context.files.${key} must be an absolute path`);
    }
  }
  if (ctx.initBinary !== undefined && (typeof ctx.initBinary !== 'string' || !isAbsolute(ctx.initBinary))) {
    throw newError('ERR_INVALID_ARGUMENT', 'context.initBinary must be an absolute path');
  }
}

/**
 * docker's capability rule (moby `caps.TweakCapabilities`): `capAdd` with `ALL` gives every capability in
 * `all` but those in `capDrop`; `capDrop` with `ALL` gives just `capAdd`; otherwise `base` minus `capDrop` plus
 * `capAdd` (an add wins over a drop of the same one). Names normalised to `CAP_*`. Pure.
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown capability.
 */
export function tweakCapabilities(base: readonly string[], capAdd: readonly string[], capDrop: readonly string[], all: readonly string[]): string[] {
  const adds = capAdd.map((c) => normalizeCapability(c, true));
  const drops = capDrop.map((c) => normalizeCapability(c, true));
  let caps: string[];
  if (adds.includes('ALL')) caps = all.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...base.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)];
}

function withDockerCapabilities(capAdd: readonly string[], capDrop: readonly string[]): SpecOpt {
  return async (ctx, spec) => {
    if (capAdd.length === 0 && capDrop.length === 0) return;
    // "ALL" is what this process holds: a runtime it starts cannot grant more.
    const all = capAdd.some((c) => c.toUpperCase() === 'ALL') ? await readPermittedCapabilities({ signal: ctx.signal }) : [];
    await withCapabilities(tweakCapabilities(DEFAULT_CAPABILITIES, capAdd, capDrop, all))(ctx, spec);
  };
}

/** Whether the memory cgroup can limit swap: cgroup v1 with swap accounting, or cgroup v2. */
function detectSwapAccounting(): boolean {
  return existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') || existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function resourceOpts(r: ContainerResources, swapAccounting: () => boolean): SpecOpt[] {
  const opts: SpecOpt[] = [];
  if (r.memory !== undefined) {
    opts.push(withMemoryLimit(r.memory));
    // docker: swap defaults to as much as the memory limit (memory+swap = 2×memory), where swap is accounted.
    const swap = r.memorySwap ?? r.memory * 2;
    if (swapAccounting()) {
      opts.push((_ctx, spec) => {
        spec.linux!.resources!.memory!.swap = swap;
      });
    } else if (r.memorySwap !== undefined) log('the host does not account swap: memorySwap %d ignored, as docker does', r.memorySwap);
  }
  if (r.cpus !== undefined) opts.push(withCPUs(r.cpus));
  if (r.cpuShares !== undefined) opts.push(withCPUShares(r.cpuShares));
  if (r.cpusetCpus !== undefined) {
    const cpus = r.cpusetCpus;
    opts.push((_ctx, spec) => {
      const res = (spec.linux!.resources ??= {});
      res.cpu = { ...res.cpu, cpus };
    });
  }
  if (r.pidsLimit !== undefined) opts.push(withPidsLimit(r.pidsLimit));
  return opts;
}

/** The spec mount of a user mount, docker's options: binds `rbind` + ro/rw + propagation (default rprivate). */
function specMountOf(m: ContainerMount): SpecMount {
  if (m.type === 'bind') return bindMount(m.source, m.target, { readonly: m.readonly === true, propagation: m.propagation ?? 'rprivate' });
  const mount = tmpfsMount(m.target, { size: m.size, mode: m.mode, options: ['nosuid', 'nodev', 'noexec'] });
  if (m.readonly) mount.options!.push('ro');
  return mount;
}

/** Checks (or, for `createSource`, creates) every bind source on the host: docker's `--mount` refuses a missing one. */
async function checkBindSources(mounts: readonly ContainerMount[], signal: AbortSignal | undefined): Promise<void> {
  for (const [i, m] of mounts.entries()) {
    if (m.type !== 'bind') continue;
    signal?.throwIfAborted();
    try {
      await stat(m.source);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw newError('ERR_IO', `cannot stat bind source ${m.source}: ${(err as Error).message}`, { cause: err });
      if (!m.createSource) {
        throw newError('ERR_INVALID_ARGUMENT', `options.mounts[${i}].source: bind source path does not exist: ${m.source}`, {
          cause: err,
          details: { option: `mounts[${i}].source` },
        });
      }
      await makeDirs(m.source, 0o755);
    }
  }
}

/**
 * The container files and the user's mounts, as dockerd adds them: the files writable unless the rootfs is
 * read-only (container.NetworkMounts), a user mount on the same target replacing a file, and all of them sorted by
 * the depth of their target so a parent (`/etc`) is mounted before a child (`/etc/hosts`).
 */
function withContainerMounts(files: ContainerFiles | undefined, readonlyRootfs: boolean, mounts: readonly ContainerMount[]): SpecOpt {
  const fileOpts = { readonly: readonlyRootfs, propagation: 'rprivate' as const };
  const fileMounts = files
    ? [
        bindMount(files.resolvConfPath, '/etc/resolv.conf', fileOpts),
        bindMount(files.hostnamePath, '/etc/hostname', fileOpts),
        bindMount(files.hostsPath, '/etc/hosts', fileOpts),
      ]
    : [];
  const userMounts = mounts.map(specMountOf);
  const userTargets = new Set(userMounts.map((m) => posix.normalize(m.destination)));
  const depth = (m: SpecMount): number => posix.normalize(m.destination).split('/').filter(Boolean).length;
  const list = [...fileMounts.filter((m) => !userTargets.has(m.destination)), ...userMounts].sort((a, b) => depth(a) - depth(b));
  return async (ctx, spec) => {
    await checkBindSources(mounts, ctx.signal);
    await withMounts(list)(ctx, spec);
    // A shared or slave bind needs the container's root to propagate that way too (dockerd's rootfs propagation).
    const props = mounts.flatMap((m) => (m.type === 'bind' && m.propagation ? [m.propagation] : []));
    if (props.some((p) => p.endsWith('shared'))) spec.linux!.rootfsPropagation = 'shared';
    else if (props.some((p) => p.endsWith('slave'))) spec.linux!.rootfsPropagation = 'slave';
  };
}

/** Runs the process as the user, root by default, with the supplementary groups the rootfs lists for it. */
function withContainerUser(user: string): SpecOpt {
  return async (ctx, spec) => {
    await withUser(user === '' ? '0' : user)(ctx, spec);
    await withAdditionalGids(String(spec.process!.user.uid))(ctx, spec);
  };
}

/** Creates the working directory in the rootfs when missing, inside it only (dockerd's SetupWorkingDirectory). */
function withWorkdirCreated(rootfs: string, workdir: string): SpecOpt {
  return async (ctx) => {
    if (await mkdirAllInRoot(rootfs, workdir, { mode: 0o755, signal: ctx.signal })) log('created workdir %s in %s', workdir, rootfs);
  };
}

/** Drops containerd's `/run` tmpfs, which dockerd's default spec does not have: an image's /run stays visible. */
const withoutRunTmpfs: SpecOpt = (_ctx, spec) => {
  spec.mounts = (spec.mounts ?? []).filter((m) => !(m.destination === '/run' && m.type === 'tmpfs'));
};

/**
 * dockerd's sysctls for a container in its own network namespace (since 20.10): any user may bind ports below
 * 1024 and send ICMP echo without CAP_NET_RAW.
 */
const withDockerNetworkSysctls: SpecOpt = (_ctx, spec) => {
  spec.linux ??= {};
  spec.linux.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647', ...spec.linux.sysctl };
};

/** No rlimits of its own: the process inherits the engine's, as docker's inherit dockerd's; `ulimits` go on top. */
const withInheritedRlimits: SpecOpt = (_ctx, spec) => {
  if (spec.process) spec.process.rlimits = [];
};

/**
 * Builds a container's OCI runtime spec from its image config and create options, the way dockerd does:
 * - argv from entrypoint and cmd (docker's reset rules); env over `PATH`, `HOSTNAME` (and `TERM` with a tty);
 * - the user resolved in the rootfs's /etc/passwd and /etc/group (through symlink-safe reads), with its
 *   supplementary groups; the workdir created in the rootfs when missing (inside it only);
 * - docker's default capabilities with `capAdd`/`capDrop` (`ALL` allowed), its seccomp profile, no_new_privs
 *   off; `privileged`: every capability the engine holds, no seccomp, no masked or read-only paths, the host's
 *   devices in the container's /dev and all devices allowed;
 * - bind mounts (`rbind`, ro/rw, propagation) and tmpfs mounts (`noexec,nosuid,nodev`, size, mode), the
 *   container files at /etc/hosts, /etc/hostname and /etc/resolv.conf; no /run tmpfs; readonly rootfs;
 * - cgroup limits; rlimits inherited from the engine, `ulimits` clamped to the engine's own;
 * - `network: 'none'`: its own network namespace (runc brings up `lo`) with dockerd's sysctls (unprivileged
 *   ports from 0, ping for every group); `'host'`: the host's;
 * - `init`: tini bind-mounted read-only at /sbin/docker-init and run as pid 1 (`/sbin/docker-init -- argv…`);
 * - the stop signal in the annotation `org.opencontainers.image.stopSignal`.
 *
 * Options are validated before any work. Side effects on the host: the workdir created in the rootfs, bind
 * sources created for `createSource`.
 *
 * @throws ERR_INVALID_ARGUMENT for bad options (naming the option) or context, or a missing bind source;
 *   ERR_NO_COMMAND when there is nothing to run; ERR_USER_NOT_FOUND for a user or group not in the rootfs;
 *   ERR_TOOL_MISSING for `init` without tini on the host (install Debian's `tini`); ERR_FAILED_PRECONDITION
 *   when the workdir exists as a file; the errors of the rootfs reads (ERR_SYMLINK_LOOP, ERR_IO). Rejects with
 *   `signal.reason` on abort.
 */
export async function buildContainerSpec(image: ImageConfig, options: CreateOptions, context: ContainerSpecContext): Promise<Spec> {
  if (typeof image !== 'object' || image === null) throw newError('ERR_INVALID_ARGUMENT', 'image must be an image config');
  validateCreateOptions(options);
  validateContext(context);
  const { rootfs, id, signal } = context;
  signal?.throwIfAborted();
  const o = applyCreateDefaults(options);
  const hostname = containerHostname(o, id);
  const run = mergeRunConfig(image, o, hostname);

  const opts: SpecOpt[] = [
    withRootPath(context.rootPath ?? rootfs),
    withoutRunTmpfs,
    withInheritedRlimits,
    withProcessArgs(...run.args),
    withEnv(run.env),
    withCwd(run.workdir),
    withTTY(o.tty),
    withNoNewPrivileges(o.noNewPrivileges),
    withContainerUser(run.user),
    withHostname(hostname),
    withAnnotations({ [STOP_SIGNAL_ANNOTATION]: run.stopSignal }),
  ];
  opts.push(o.network === 'host' ? withHostNetwork() : withDockerNetworkSysctls);
  // Before the mounts: a missing tini fails before any bind source is created.
  if (o.init) opts.push(withInit({ hostPath: context.initBinary ?? DEFAULT_INIT_BINARY, path: DOCKER_INIT_PATH }));
  opts.push(withContainerMounts(context.files, o.readonlyRootfs, o.mounts ?? []));
  if (o.readonlyRootfs) opts.push(withReadonlyRootfs());
  opts.push(o.privileged ? composeSpecOpts(withPrivileged(), withHostDevices()) : withDockerCapabilities(o.capAdd ?? [], o.capDrop ?? []));
  opts.push(...resourceOpts(o.resources ?? {}, () => context.swapAccounting ?? detectSwapAccounting()));
  if (o.ulimits && o.ulimits.length > 0) opts.push(withRlimits(o.ulimits));
  // Last, so nothing is created in the rootfs when an earlier step (user lookup, init) fails.
  opts.push(withWorkdirCreated(rootfs, run.workdir));

  const spec = await generateSpec(opts, { rootfs, id, namespace: context.namespace, hostRlimits: context.hostRlimits, signal });
  if (spec.process?.rlimits?.length === 0) delete spec.process.rlimits;
  return spec;
}
