import { newError } from '../../errors/index.js';
import {
  type Credential,
  convertToHostname,
  DOCKER_HUB_CONFIG_KEY,
  DockerConfigCredentials,
  dockerConfigDir,
  dockerConfigKey,
  isPasswordCredential,
} from '../../registry/auth/credentials.js';
import { storeDockerCredential } from '../../registry/auth/docker-config.js';
import { verifyCredentials } from '../../registry/auth/verify.js';
import type { Command } from '../command.js';

/** The registry `docker login` talks to for Docker Hub's config key. */
const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

/** The host to verify against for a `login`/`logout` argument, and its config.json key. */
export function loginTarget(arg: string | undefined): { key: string; host: string } {
  const key = dockerConfigKey(arg ?? 'docker.io');
  return { key, host: key === DOCKER_HUB_CONFIG_KEY ? DOCKER_HUB_REGISTRY : convertToHostname(key) };
}

async function readAll(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    signal.throwIfAborted();
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `containerkit login [-u USER] [-p PASS | --password-stdin] [HOST]`: checks the credentials against the registry
 * (`GET /v2/` with the challenge flow; plain HTTP for loopback hosts) and only then saves them as `docker login`
 * does (config.json in `$DOCKER_CONFIG` or `~/.docker`, mode 0600, or the configured credential helper). Without
 * `-u`, re-checks the credentials already stored for HOST. HOST defaults to Docker Hub.
 */
export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry',
  usage: 'login [-u USER] [--password-stdin] [HOST]',
  options: {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
  },
  async run(ctx, args) {
    const { positionals, values } = args;
    if (positionals.length > 1) throw newError('ERR_INVALID_ARGUMENT', 'login takes at most one HOST');
    const username = values.username as string | undefined;
    let password = values.password as string | undefined;
    const fromStdin = values['password-stdin'] === true;
    if (password !== undefined && fromStdin) throw newError('ERR_INVALID_ARGUMENT', '--password and --password-stdin are mutually exclusive');
    if (fromStdin && (username === undefined || username === '')) throw newError('ERR_INVALID_ARGUMENT', 'Must provide --username with --password-stdin');
    if (password !== undefined) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    if (fromStdin) {
      password = (await readAll(ctx.stdin, ctx.signal)).replace(/\n$/, '').replace(/\r$/, '');
    }
    const { key, host } = loginTarget(positionals[0]);
    const configDir = dockerConfigDir(ctx.env);
    let credential: Credential;
    if (username !== undefined && username !== '') {
      if (password === undefined || password === '') {
        throw newError('ERR_INVALID_ARGUMENT', 'a password is required: pass it with --password-stdin');
      }
      credential = { username, password };
    } else {
      const stored = await new DockerConfigCredentials({ configDir, env: ctx.env }).get(key, { signal: ctx.signal });
      if (stored === undefined) throw newError('ERR_INVALID_ARGUMENT', `no stored credentials for ${key}: pass -u USER and --password-stdin`);
      credential = stored;
    }
    await verifyCredentials(host, credential, { signal: ctx.signal, userAgent: 'containerkit' });
    const saved = await storeDockerCredential(key, credential, { configDir, env: ctx.env, signal: ctx.signal });
    if (saved.helper === undefined && isPasswordCredential(credential)) {
      ctx.stderr.write(`WARNING! Your credentials are stored unencrypted in '${saved.path}'.\nConfigure a credential helper to remove this warning.\n`);
    }
    ctx.stdout.write('Login Succeeded\n');
  },
};
