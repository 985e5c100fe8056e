import { homedir } from 'node:os';
import { join } from 'node:path';
import { newError } from '../../errors/index.js';
import { readJsonFile } from '../../util/atomic-file.js';
import { logger, redact } from '../../util/debug.js';
import { runTool } from '../../util/exec.js';

const log = logger('registry:auth');

/**
 * Credentials for one registry: a username and password (sent as Basic auth, or to the token server), or an
 * identity token (an OAuth2 refresh token, exchanged at the token server by a POST with
 * `grant_type=refresh_token`).
 */
export type Credential = { username: string; password: string } | { identityToken: string; username?: string };

/** Options of {@link CredentialSource.get}. */
export interface CredentialGetOptions {
  /** Cancels a lookup that runs a credential helper; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Where an {@link Authenticator} gets credentials for a registry host (`host[:port]`, as in image references). */
export interface CredentialSource {
  /** The credential for `host`, or undefined when none is configured (the flow then goes anonymous). */
  get(host: string, options?: CredentialGetOptions): Promise<Credential | undefined>;
}

/** Whether a credential is a username and password (as opposed to an identity token). */
export function isPasswordCredential(c: Credential): c is { username: string; password: string } {
  return 'password' in c && typeof c.password === 'string';
}

/**
 * A fixed map of host → credential; hosts are matched after {@link dockerConfigKey} normalisation, so
 * `docker.io` and `index.docker.io` find the same entry. Never throws.
 */
export class StaticCredentials implements CredentialSource {
  readonly #byKey = new Map<string, Credential>();

  constructor(entries: Record<string, Credential> | Iterable<[string, Credential]> = {}) {
    const list = Symbol.iterator in Object(entries) ? [...(entries as Iterable<[string, Credential]>)] : Object.entries(entries);
    for (const [host, cred] of list) this.#byKey.set(dockerConfigKey(host), cred);
  }

  async get(host: string): Promise<Credential | undefined> {
    return this.#byKey.get(dockerConfigKey(host));
  }
}

/** The `auths` key docker uses for Docker Hub. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** docker's `ConvertToHostname`: strips `http://` or `https://` and anything from the first `/`. */
export function convertToHostname(address: string): string {
  let s = address;
  if (s.startsWith('http://')) s = s.slice('http://'.length);
  else if (s.startsWith('https://')) s = s.slice('https://'.length);
  const slash = s.indexOf('/');
  return slash === -1 ? s : s.slice(0, slash);
}

/**
 * The key a registry's credentials are stored under in `config.json`, as the docker CLI chooses it:
 * {@link DOCKER_HUB_CONFIG_KEY} for Docker Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`, with or
 * without scheme and path), otherwise the host with scheme and path stripped (`https://r.example/v2/` → `r.example`).
 */
export function dockerConfigKey(host: string): string {
  const name = convertToHostname(host.trim());
  return HUB_HOSTS.has(name.toLowerCase()) ? DOCKER_HUB_CONFIG_KEY : name;
}

/** The directory docker keeps `config.json` in: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== '' ? dir : join(env.HOME && env.HOME !== '' ? env.HOME : homedir(), '.docker');
}

/** One `auths` entry of docker's `config.json`. */
export interface DockerAuthEntry {
  /** base64 of `username:password`. */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
  [key: string]: unknown;
}

/** docker's `config.json`: the keys containerkit reads; every other key is kept as is when writing. */
export interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * Reads `<dir>/config.json`; `{}` when it does not exist.
 *
 * @throws ERR_CORRUPT_FILE when it is not JSON or `auths`/`credHelpers` are not objects; ERR_IO when unreadable.
 */
export async function readDockerConfig(dir: string, options: { signal?: AbortSignal } = {}): Promise<DockerConfig> {
  const path = join(dir, 'config.json');
  const cfg = await readJsonFile<unknown>(path, options);
  if (cfg === undefined) return {};
  const bad = (what: string): never => {
    throw newError('ERR_CORRUPT_FILE', `${path}: ${what}`, { details: { path } });
  };
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) return bad('not a JSON object');
  const c = cfg as DockerConfig;
  for (const key of ['auths', 'credHelpers'] as const) {
    const v = c[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) bad(`"${key}" is not an object`);
  }
  if (c.credsStore !== undefined && typeof c.credsStore !== 'string') bad('"credsStore" is not a string');
  return c;
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The credential helper docker would use for `key`: `credHelpers[key]`, else `credsStore`, else undefined (the file). */
export function helperFor(cfg: DockerConfig, key: string): string | undefined {
  const own = cfg.credHelpers?.[key] ?? (key === DOCKER_HUB_CONFIG_KEY ? cfg.credHelpers?.['docker.io'] : undefined);
  const name = typeof own === 'string' && own !== '' ? own : cfg.credsStore !== '' ? cfg.credsStore : undefined;
  if (name === undefined) return undefined;
  // The name becomes part of a program name looked up on PATH: no path separators.
  if (!HELPER_NAME.test(name)) {
    throw newError('ERR_CORRUPT_FILE', `credential helper name ${JSON.stringify(name)} is not a plain program name`, { details: { helper: name } });
  }
  return name;
}

/** The `<token>` username through which credential helpers carry an identity token. */
const TOKEN_USERNAME = '<token>';

/** Options of the credential-helper calls. */
export interface CredentialHelperOptions {
  /** Environment of the helper (its PATH finds `docker-credential-<name>`). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

function helperFailure(helper: string, verb: string, output: string): Error {
  const line = redact(output.trim().split('\n')[0] ?? '').slice(0, 200);
  return newError('ERR_CREDENTIAL_HELPER_FAILED', `docker-credential-${helper} ${verb} failed${line ? `: ${line}` : ''}`, {
    details: { helper, verb, output: line },
  });
}

/**
 * Runs `docker-credential-<helper> <verb>` with `input` on stdin, per the docker-credential-helpers protocol.
 * Exit 1 is answered here (helpers print their error on stdout), any other failure by runTool.
 *
 * @throws ERR_TOOL_MISSING when the helper is not on PATH; ERR_CREDENTIAL_HELPER_FAILED on a failure;
 *   `signal.reason` on abort.
 */
export async function runCredentialHelper(
  helper: string,
  verb: 'get' | 'store' | 'erase',
  input: string,
  options: CredentialHelperOptions = {},
): Promise<{ ok: boolean; stdout: string }> {
  const program = `docker-credential-${helper}`;
  try {
    const res = await runTool(program, [verb], { input, env: options.env, signal: options.signal, okExitCodes: [0, 1] });
    return { ok: res.exitCode === 0, stdout: res.stdout };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_TOOL_MISSING') {
      throw newError('ERR_TOOL_MISSING', `credential helper ${program} is not on PATH`, { details: { helper } });
    }
    throw err;
  }
}

/**
 * Asks a credential helper for the credential of `serverUrl`; undefined when it has none ("credentials not found").
 *
 * @throws ERR_CREDENTIAL_HELPER_FAILED for another failure or output that is not `{ServerURL, Username, Secret}`;
 *   ERR_TOOL_MISSING when the helper is not installed.
 */
export async function helperGet(helper: string, serverUrl: string, options: CredentialHelperOptions = {}): Promise<Credential | undefined> {
  const { ok, stdout } = await runCredentialHelper(helper, 'get', serverUrl, options);
  if (!ok) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw helperFailure(helper, 'get', stdout);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    // Never echo the output: it may be a secret printed in the wrong format.
    throw helperFailure(helper, 'get', 'output is not JSON');
  }
  const { Username, Secret } = (parsed ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof Username !== 'string' || typeof Secret !== 'string') throw helperFailure(helper, 'get', 'output lacks Username or Secret');
  if (Secret === '') return undefined;
  return Username === TOKEN_USERNAME ? { identityToken: Secret } : { username: Username, password: Secret };
}

function decodeAuthField(entry: DockerAuthEntry, key: string): { username: string; password: string } | undefined {
  if (typeof entry.auth !== 'string' || entry.auth === '') return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon === -1) {
    throw newError('ERR_CORRUPT_FILE', `the "auth" field for ${key} in config.json is not base64 of "user:password"`, { details: { key } });
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The credential an `auths` entry holds, or undefined when it holds none (an empty entry, as a credsStore leaves). */
export function credentialFromEntry(entry: DockerAuthEntry, key: string): Credential | undefined {
  const fromAuth = decodeAuthField(entry, key);
  const username = fromAuth?.username ?? (typeof entry.username === 'string' ? entry.username : undefined);
  const password = fromAuth?.password ?? (typeof entry.password === 'string' ? entry.password : undefined);
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return username ? { identityToken: entry.identitytoken, username } : { identityToken: entry.identitytoken };
  }
  if (username !== undefined && username !== '' && password !== undefined) return { username, password };
  return undefined;
}

/** docker's file-store lookup: the exact key, else the first entry whose key converts to the same hostname. */
export function findAuthEntry(cfg: DockerConfig, key: string): [string, DockerAuthEntry] | undefined {
  const auths = cfg.auths ?? {};
  if (Object.hasOwn(auths, key)) return [key, auths[key]!];
  const hub = key === DOCKER_HUB_CONFIG_KEY;
  for (const [k, entry] of Object.entries(auths)) {
    const name = convertToHostname(k);
    if (name === key || (hub && HUB_HOSTS.has(name.toLowerCase()))) return [k, entry];
  }
  return undefined;
}

/** Options for {@link DockerConfigCredentials}. */
export interface DockerConfigCredentialsOptions {
  /** Directory holding `config.json`. Default: {@link dockerConfigDir} of `env`. */
  configDir?: string;
  /** Environment: `DOCKER_CONFIG`, `HOME`, and the PATH credential helpers are found on. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Credentials read the way the docker CLI reads them: `config.json` in `$DOCKER_CONFIG` or `~/.docker`; the
 * helper in `credHelpers[host]` or `credsStore` (run as `docker-credential-<name> get`), else the `auths` entry
 * (`auth` = base64 `user:password`, or `username`/`password`, plus `identitytoken`). Hosts are normalised with
 * {@link dockerConfigKey}. The file is read on every call, so a `login` in between is seen.
 *
 * get() throws ERR_CORRUPT_FILE for a malformed config.json, ERR_CREDENTIAL_HELPER_FAILED / ERR_TOOL_MISSING for a
 * failing or missing helper, and `signal.reason` on abort. Returns undefined when nothing is configured.
 */
export class DockerConfigCredentials implements CredentialSource {
  readonly configDir: string;
  readonly #env: NodeJS.ProcessEnv | undefined;

  constructor(options: DockerConfigCredentialsOptions = {}) {
    if (options.configDir !== undefined && (typeof options.configDir !== 'string' || options.configDir === '')) {
      throw newError('ERR_INVALID_ARGUMENT', 'options.configDir must be a non-empty string');
    }
    this.#env = options.env;
    this.configDir = options.configDir ?? dockerConfigDir(options.env ?? process.env);
  }

  async get(host: string, options: CredentialGetOptions = {}): Promise<Credential | undefined> {
    options.signal?.throwIfAborted();
    const key = dockerConfigKey(host);
    const cfg = await readDockerConfig(this.configDir, options);
    const helper = helperFor(cfg, key);
    if (helper !== undefined) {
      log('credentials for %s from docker-credential-%s', key, helper);
      return helperGet(helper, key, { env: this.#env, signal: options.signal });
    }
    const found = findAuthEntry(cfg, key);
    const cred = found ? credentialFromEntry(found[1], found[0]) : undefined;
    log('credentials for %s from config.json: %s', key, cred ? ('identityToken' in cred ? 'identity token' : 'password') : 'none');
    return cred;
  }
}
