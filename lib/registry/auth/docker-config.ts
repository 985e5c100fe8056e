import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../../errors/index.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { logger } from '../../util/debug.js';
import { fsError } from '../../util/fs-error.js';
import {
  type Credential,
  DOCKER_HUB_CONFIG_KEY,
  type DockerConfig,
  dockerConfigDir,
  dockerConfigKey,
  helperFor,
  isPasswordCredential,
  readDockerConfig,
  runCredentialHelper,
} from './credentials.js';

const log = logger('registry:auth');

/** Options for {@link storeDockerCredential} and {@link eraseDockerCredential}. */
export interface DockerConfigWriteOptions {
  /** Directory holding `config.json`; created (mode 0700) when missing. Default: `$DOCKER_CONFIG` or `~/.docker` of `env`. */
  configDir?: string;
  /** Environment for `DOCKER_CONFIG`, `HOME` and the PATH of credential helpers. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Where {@link storeDockerCredential} put the credential. */
export interface StoredCredential {
  /** The `auths` key, e.g. `127.0.0.1:5000` or `https://index.docker.io/v1/`. */
  key: string;
  /** The config file written. */
  path: string;
  /** The credential helper that holds the secret, or undefined when it is in config.json (base64, unencrypted). */
  helper: string | undefined;
}

function configDirOf(options: DockerConfigWriteOptions): string {
  if (options.configDir !== undefined && (typeof options.configDir !== 'string' || options.configDir === '')) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.configDir must be a non-empty string');
  }
  return options.configDir ?? dockerConfigDir(options.env ?? process.env);
}

async function writeConfig(dir: string, cfg: DockerConfig, signal: AbortSignal | undefined): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fsError(err, 'create', dir);
  }
  let path = join(dir, 'config.json');
  // Like the docker CLI, write through a symlinked config.json to its target instead of replacing the link.
  path = await realpath(path).catch(() => path);
  // Tab indentation and no trailing newline: what the docker CLI writes. 0600 always, as it holds secrets.
  await writeFileAtomic(path, JSON.stringify(cfg, null, '\t'), { mode: 0o600, signal });
  return path;
}

/**
 * Saves a credential the way `docker login` does. With a credential helper for the host (`credHelpers[key]` or
 * `credsStore`) the secret goes to `docker-credential-<name> store` (identity tokens as username `<token>`) and
 * `auths[key]` is left as an empty object; otherwise `auths[key]` becomes `{ auth: base64("user:password") }`
 * (plus `identitytoken` for an identity token). Every other key of the file is kept. The file is replaced
 * atomically with mode 0600.
 *
 * @throws ERR_INVALID_ARGUMENT for a bad host or credential; ERR_CORRUPT_FILE for a malformed existing file;
 *   ERR_CREDENTIAL_HELPER_FAILED / ERR_TOOL_MISSING for the helper; ERR_IO on a write failure; `signal.reason`.
 */
export async function storeDockerCredential(host: string, credential: Credential, options: DockerConfigWriteOptions = {}): Promise<StoredCredential> {
  if (typeof host !== 'string' || host.trim() === '') throw newError('ERR_INVALID_ARGUMENT', 'host must be a non-empty string');
  const dir = configDirOf(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const key = dockerConfigKey(host);
  const cfg = await readDockerConfig(dir, { signal });
  const auths: Record<string, unknown> = { ...(cfg.auths ?? {}) };
  const helper = helperFor(cfg, key);
  if (helper !== undefined) {
    const payload = isPasswordCredential(credential)
      ? { ServerURL: key, Username: credential.username, Secret: credential.password }
      : { ServerURL: key, Username: '<token>', Secret: credential.identityToken };
    const { ok, stdout } = await runCredentialHelper(helper, 'store', JSON.stringify(payload), { env: options.env, signal });
    if (!ok) {
      // The helper's stdout is its error message, which names no secret in the protocol; still keep it short.
      throw newError('ERR_CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} store failed`, {
        details: { helper, verb: 'store', output: stdout.trim().slice(0, 200) },
      });
    }
    auths[key] = {};
  } else if (isPasswordCredential(credential)) {
    auths[key] = { auth: Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64') };
  } else {
    const user = credential.username ?? '';
    auths[key] = { auth: Buffer.from(`${user}:`, 'utf8').toString('base64'), identitytoken: credential.identityToken };
  }
  const path = await writeConfig(dir, { ...cfg, auths: auths as DockerConfig['auths'] }, signal);
  log('stored credentials for %s in %s', key, helper ? `docker-credential-${helper}` : path);
  return { key, path, helper };
}

/** What {@link eraseDockerCredential} removed. */
export interface ErasedCredential {
  /** The `auths` keys removed (docker also removes `http://` and `https://` forms of the host). Empty: not logged in. */
  keys: string[];
  /** Helper erase failures, as `docker logout` prints them as warnings and carries on. */
  warnings: string[];
}

/**
 * Removes a credential the way `docker logout` does: each of `key`, `http://key` and `https://key` present in
 * `auths` is erased from its credential helper (failures become warnings) and from the file. Nothing is written
 * when no entry exists.
 *
 * @throws ERR_INVALID_ARGUMENT, ERR_CORRUPT_FILE, ERR_IO, `signal.reason`.
 */
export async function eraseDockerCredential(host: string, options: DockerConfigWriteOptions = {}): Promise<ErasedCredential> {
  if (typeof host !== 'string' || host.trim() === '') throw newError('ERR_INVALID_ARGUMENT', 'host must be a non-empty string');
  const dir = configDirOf(options);
  const { signal } = options;
  signal?.throwIfAborted();
  const key = dockerConfigKey(host);
  const cfg = await readDockerConfig(dir, { signal });
  const auths: Record<string, unknown> = { ...(cfg.auths ?? {}) };
  const candidates = key === DOCKER_HUB_CONFIG_KEY ? [key] : [key, `http://${key}`, `https://${key}`];
  const keys = candidates.filter((k) => Object.hasOwn(auths, k));
  const warnings: string[] = [];
  if (keys.length === 0) return { keys, warnings };
  for (const k of keys) {
    const helper = helperFor(cfg, k) ?? helperFor(cfg, key);
    if (helper !== undefined) {
      try {
        const { ok, stdout } = await runCredentialHelper(helper, 'erase', k, { env: options.env, signal });
        if (!ok) warnings.push(`could not erase credentials: ${k}: ${stdout.trim().split('\n')[0]?.slice(0, 200) ?? ''}`);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        warnings.push(`could not erase credentials: ${k}: ${(err as Error).message}`);
      }
    }
    delete auths[k];
  }
  await writeConfig(dir, { ...cfg, auths: auths as DockerConfig['auths'] }, signal);
  log('erased credentials for %s', keys.join(', '));
  return { keys, warnings };
}
