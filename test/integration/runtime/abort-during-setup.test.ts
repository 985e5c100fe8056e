// A signal that aborts while OCIRuntime is still preparing a call (the await on its log file, after the
// up-front check) must still stop the runtime it then spawns. With real runc every verb used here returns at once,
// so the effect cannot be seen; a stand-in binary that blocks and records its pid shows it (in addition to the
// real-runc suite in oci-runtime.test.ts).

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { OCIRuntime } from '../../../lib/runtime/oci-runtime.js';

/**
 * The pid the stand-in recorded, or undefined when it has not (yet) written one: the shell creates the file before
 * it writes, and an empty file must never become pid 0, which `process.kill` takes as this whole process group.
 */
function recordedPid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('OCIRuntime: abort while a call is being set up', () => {
  let dir: string;
  let runtime: OCIRuntime;
  let pidFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ck-runc-abort-'));
    pidFile = join(dir, 'pid');
    const binary = join(dir, 'blocking-runc');
    // Records its pid, then blocks until killed.
    writeFileSync(binary, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 1000\n`);
    chmodSync(binary, 0o755);
    // With `log`, preparing a call stats the log file: a real await on I/O, during which the abort lands.
    runtime = new OCIRuntime({ binary, root: join(dir, 'root'), log: join(dir, 'runc-log.json') });
  });
  afterEach(() => {
    const pid = recordedPid(pidFile);
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a buffered verb (list) rejects with the reason and stops the runtime it spawned', async () => {
    const controller = new AbortController();
    const listing = runtime.list({ signal: controller.signal });
    // Not aborted at the call's own check; aborted before its scratch directory exists.
    queueMicrotask(() => controller.abort(new Error('cancelled early')));
    expect(await listing.catch((e: Error) => e.message)).to.equal('cancelled early');
    // Undefined when it was killed before the shell wrote its pid: stopped all the same.
    const pid = recordedPid(pidFile);
    if (pid !== undefined) expect(alive(pid)).to.equal(false);
  });

  it('events() ends quietly and stops the runtime it spawned', async () => {
    const controller = new AbortController();
    const iterator = runtime.events('c1', { signal: controller.signal })[Symbol.asyncIterator]();
    const first = iterator.next();
    queueMicrotask(() => controller.abort(new Error('cancelled early')));
    expect(await first).to.deep.equal({ value: undefined, done: true });
    const pid = recordedPid(pidFile);
    if (pid !== undefined) expect(alive(pid)).to.equal(false);
  });

  it('events() with an already-aborted signal yields nothing and starts no runtime', async () => {
    const iterator = runtime.events('c1', { signal: AbortSignal.abort(new Error('before')) })[Symbol.asyncIterator]();
    expect(await iterator.next()).to.deep.equal({ value: undefined, done: true });
    expect(recordedPid(pidFile)).to.equal(undefined);
  });
});
