#!/usr/bin/env node
// The `containerkit` command. It runs the compiled CLI in dist/ (built by `npm ci` through `prepare`).
import { runCli } from '../dist/cli/main.js';

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => controller.abort(new DOMException(`received ${sig}`, 'AbortError')));
}
process.exitCode = await runCli(process.argv.slice(2), { signal: controller.signal });
