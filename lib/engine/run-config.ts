import { posix } from 'node:path';
import { newError } from '../errors/index.js';
import type { ImageConfig } from '../oci/image-config.js';
import { DEFAULT_PATH_ENV } from '../runtime/spec/defaults.js';
import { type CreateOptions, DEFAULT_STOP_SIGNAL } from './create-options.js';

// How an image's run config and the create options combine into what the container runs, by dockerd's rules
// (daemon/commit.go `merge`, container/env.go `ReplaceOrAppendEnvValues`, `CreateDaemonEnvironment`). Pure.

/** What a container runs, once image and options are merged. */
export interface RunConfig {
  /** argv: entrypoint then cmd. */
  args: string[];
  /** The final environment, `PATH` and `HOSTNAME` first (`TERM` with a tty), as dockerd builds it. */
  env: string[];
  /** Absolute working directory. */
  workdir: string;
  /** The user string to resolve in the rootfs; `''` for root. */
  user: string;
  /** The image's labels with the options' over them. */
  labels: Record<string, string>;
  /** The options' stop signal, else the image's, else `SIGTERM`. */
  stopSignal: string;
}

function keyOf(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/**
 * The argv of a container: docker's rules. `cmd` replaces the image's `Cmd` (an empty `cmd` is none);
 * `entrypoint` replaces the image's `Entrypoint` and drops the image's `Cmd`; `[]` or `['']` clears it.
 *
 * @throws ERR_NO_COMMAND when nothing is left to run.
 */
export function mergeArgs(image: ImageConfig, options: Pick<CreateOptions, 'cmd' | 'entrypoint'>): string[] {
  const config = image.config ?? {};
  const cmd = options.cmd !== undefined && options.cmd.length > 0 ? options.cmd : undefined;
  let args: string[];
  if (options.entrypoint !== undefined) {
    // `--entrypoint ""` arrives as `[""]`: an empty entrypoint, not a program called "".
    const entrypoint = options.entrypoint.length === 1 && options.entrypoint[0] === '' ? [] : options.entrypoint;
    args = [...entrypoint, ...(cmd ?? [])];
  } else {
    args = [...(config.Entrypoint ?? []), ...(cmd ?? config.Cmd ?? [])];
  }
  if (args.length === 0) {
    throw newError('ERR_NO_COMMAND', 'no command specified: the image has no Entrypoint or Cmd and the options give none');
  }
  return args;
}

/**
 * Replaces or appends `overrides` in `base` by key, then drops every bare `KEY` (no `=`): dockerd's
 * `ReplaceOrAppendEnvValues`, where a bare key unsets the variable.
 */
export function replaceOrAppendEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  const index = new Map<string, number>();
  out.forEach((e, i) => {
    index.set(keyOf(e), i);
  });
  for (const e of overrides) {
    const at = index.get(keyOf(e));
    if (at !== undefined) out[at] = e;
    else index.set(keyOf(e), out.push(e) - 1);
  }
  return out.filter((e) => e.includes('='));
}

/**
 * The environment of a container, as dockerd builds it: the options' entries followed by the image's entries
 * whose keys they do not name (`merge`), applied over `PATH` (the default one), `HOSTNAME` and, with a tty,
 * `TERM=xterm`; bare `KEY` entries remove the variable.
 */
export function mergeEnv(image: ImageConfig, options: Pick<CreateOptions, 'env' | 'tty'>, hostname: string): string[] {
  const user = options.env ?? [];
  const userKeys = new Set(user.map(keyOf));
  const config = [...user, ...(image.config?.Env ?? []).filter((e) => !userKeys.has(keyOf(e)))];
  const base = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`, ...(options.tty ? ['TERM=xterm'] : [])];
  return replaceOrAppendEnv(base, config);
}

/**
 * Merges an image's run config with create options (already validated) by dockerd's rules: see
 * {@link mergeArgs} and {@link mergeEnv}; the workdir, user and stop signal of the options win over the image's;
 * labels are merged with the options' winning. A relative image `WorkingDir` is taken from `/`.
 *
 * @param hostname the container's hostname, for `HOSTNAME`.
 * @throws ERR_NO_COMMAND when there is nothing to run.
 */
export function mergeRunConfig(image: ImageConfig, options: CreateOptions, hostname: string): RunConfig {
  const config = image.config ?? {};
  return {
    args: mergeArgs(image, options),
    env: mergeEnv(image, options, hostname),
    workdir: posix.resolve('/', options.workdir ?? (config.WorkingDir || '/')),
    user: options.user ?? config.User ?? '',
    labels: { ...(config.Labels ?? {}), ...(options.labels ?? {}) },
    stopSignal: options.stopSignal ?? (config.StopSignal || DEFAULT_STOP_SIGNAL),
  };
}
