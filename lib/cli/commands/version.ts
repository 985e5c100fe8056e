import type { Command } from '../command.js';
import { packageVersion } from '../version.js';

/** `containerkit version`: the client's version and the Node.js it runs on. */
export const versionCommand: Command = {
  name: 'version',
  summary: 'Show the containerkit version',
  usage: 'version',
  options: {},
  async run(ctx) {
    ctx.stdout.write(`containerkit ${packageVersion()}\nnode ${process.version}\n`);
  },
};
