import { newError } from '../../errors/index.js';
import type { ImageConfig } from '../../oci/image-config.js';
import { DEFAULT_PATH_ENV } from './defaults.js';
import { mergeEnv, withAdditionalGids, withUser } from './opts-process.js';
import { checkString, rootfsOf, type SpecOpt, setProcess } from './spec-opt.js';

/** The annotation an image's `StopSignal` becomes (OCI image-spec, conversion to a runtime config). */
export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';

/** Options of {@link withImageConfig}. */
export interface ImageConfigOptions {
  /** Replaces the image's `Cmd` (what `docker run IMAGE args…` does); the `Entrypoint` stays. */
  args?: string[];
}

/**
 * Applies an image's run config, like containerd's `WithImageConfigArgs`:
 * - args: `Entrypoint` followed by `options.args` or else `Cmd`;
 * - env: the image's `Env` (or the default PATH when it has none), overridden by entries already in the spec;
 * - cwd: `WorkingDir`, or `/`;
 * - user: `User` resolved in the rootfs ({@link withUser}) and its supplementary groups; without `User`, root's
 *   supplementary groups when the rootfs is known;
 * - `StopSignal` as the annotation {@link STOP_SIGNAL_ANNOTATION}.
 *
 * Put it before options meant to override the image (`withEnv`, `withCwd`, `withProcessArgs`).
 *
 * @throws ERR_INVALID_ARGUMENT for a config without an object `config` member or a non-string arg; the errors of
 *   {@link withUser} when `User` is set.
 */
export function withImageConfig(image: ImageConfig, options: ImageConfigOptions = {}): SpecOpt {
  if (typeof image !== 'object' || image === null) throw newError('ERR_INVALID_ARGUMENT', 'withImageConfig: image must be an image config');
  if (options.args !== undefined) {
    if (!Array.isArray(options.args)) throw newError('ERR_INVALID_ARGUMENT', 'withImageConfig: options.args must be an array');
    for (const a of options.args) checkString(a, 'withImageConfig: each of options.args', true);
  }
  const config = image.config ?? {};
  return async (ctx, spec) => {
    const proc = setProcess(spec);
    const imageEnv = config.Env && config.Env.length > 0 ? config.Env : [DEFAULT_PATH_ENV];
    proc.env = mergeEnv(imageEnv, proc.env ?? []);
    const cmd = options.args && options.args.length > 0 ? options.args : (config.Cmd ?? []);
    proc.args = [...(config.Entrypoint ?? []), ...cmd];
    proc.cwd = config.WorkingDir || '/';
    if (config.StopSignal) spec.annotations = { ...spec.annotations, [STOP_SIGNAL_ANNOTATION]: config.StopSignal };
    if (config.User) {
      await withUser(config.User)(ctx, spec);
      await withAdditionalGids(String(spec.process!.user.uid))(ctx, spec);
    } else if (rootfsOf(ctx, spec) !== undefined) {
      await withAdditionalGids('root')(ctx, spec);
    }
  };
}
