#!/usr/bin/env node
// The `containerkit` command. It runs the compiled CLI in dist/ (built by `npm ci` through `prepare`).
import { runMain } from '../dist/cli/entry.js';

await runMain();
