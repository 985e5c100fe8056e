import { newError } from '../../errors/index.js';
import { dockerConfigDir } from '../../registry/auth/credentials.js';
import { eraseDockerCredential } from '../../registry/auth/docker-config.js';
import type { Command } from '../command.js';
import { loginTarget } from './login.js';

/**
 * `containerkit logout [HOST]`: removes the credentials `login` stored for HOST (Docker Hub by default), from
 * config.json and from the credential helper, as `docker logout` does.
 */
export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Log out from a registry',
  usage: 'logout [HOST]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length > 1) throw newError('ERR_INVALID_ARGUMENT', 'logout takes at most one HOST');
    const { key } = loginTarget(args.positionals[0]);
    const name = args.positionals[0] ?? key;
    const erased = await eraseDockerCredential(key, { configDir: dockerConfigDir(ctx.env), env: ctx.env, signal: ctx.signal });
    if (erased.keys.length === 0) {
      ctx.stdout.write(`Not logged in to ${name}\n`);
      return;
    }
    ctx.stdout.write(`Removing login credentials for ${name}\n`);
    for (const warning of erased.warnings) ctx.stderr.write(`WARNING: ${warning}\n`);
  },
};
