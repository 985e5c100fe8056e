import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type ContainerLogRecord, parseContainerLogLine, type ShimManager } from '../../../lib/shim/index.js';
import { ManagerFixture, until } from './manager-fixture.js';

/** Every record of a container log; throws unless the file is valid UTF-8 and every line a record. */
function records(path: string): ContainerLogRecord[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => parseContainerLogLine(line));
}

describe('ShimManager: the logger writes valid JSON in valid UTF-8, whatever the container prints', function () {
  this.timeout(90_000);
  let fx: ManagerFixture;
  let manager: ShimManager;

  beforeEach(async () => {
    fx = await ManagerFixture.create();
    manager = await fx.manager();
  });
  afterEach(async () => {
    const left = await fx.cleanup();
    expect(left, 'left behind').to.deep.equal([]);
  });

  async function run(id: string, script: string): Promise<ContainerLogRecord[]> {
    const c = await manager.start(id, await fx.bundle(id, ['sh', '-c', script]), { stdio: { stdout: 'log' } });
    try {
      await c.start();
      expect((await c.wait()).code).to.equal(0);
      // The logger sees EOF (and writes what is left) once the shim lets go of the pipes, at Delete.
      await c.delete();
      const path = c.logPath!;
      await until(() => existsSync(path) && readFileSync(path, 'utf8').includes('"log":"END'), 10_000, 'the last record');
      return records(path);
    } finally {
      await c.remove({ force: true });
    }
  }

  it('writes each invalid byte as U+FFFD (as docker and Go do), keeps valid characters, escapes control characters', async () => {
    // \377: never valid; \303(: a lead byte without its continuation; \342\202: a sequence cut short; \355\240\200: a
    // surrogate; \300\257: an overlong '/'; then a valid € and é; then control characters, quotes and backslash.
    const script = String.raw`printf '\377\303(\342\202 \355\240\200 \300\257 \342\202\254\303\251\n'; printf 'c\001\033[31m\t"q"\\\b\f\177\n' >&2; printf 'END'`;
    const recs = await run('badutf8', script);
    const out = recs.filter((r) => r.stream === 'stdout').map((r) => r.log);
    const err = recs.filter((r) => r.stream === 'stderr').map((r) => r.log);
    expect(out).to.deep.equal(['\uFFFD\uFFFD(\uFFFD\uFFFD \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD €é\n', 'END']);
    expect(err).to.deep.equal(['c\u0001\u001b[31m\t"q"\\\b\f\u007f\n']);
  });

  it('cuts a line of multi-byte characters longer than 16 KiB between characters, never inside one', async () => {
    // 6000 × € (3 bytes) = 18000 bytes: 16384 is no multiple of 3, so a byte cut would split a character; then
    // 5000 × a 4-byte emoji after one ASCII byte.
    const script = String.raw`i=0; while [ $i -lt 6000 ]; do printf '\342\202\254'; i=$((i+1)); done; echo; printf x; i=0; while [ $i -lt 5000 ]; do printf '\360\237\230\200'; i=$((i+1)); done; echo; printf END`;
    const recs = await run('longmb', script);
    const logs = recs.map((r) => r.log);
    expect(logs.length, 'records').to.be.greaterThan(3);
    for (const log of logs) {
      expect(log, 'no replacement character').to.not.include('\uFFFD');
      expect(Buffer.byteLength(log), 'record size').to.be.at.most(16 * 1024);
    }
    expect(logs.join('')).to.equal(`${'€'.repeat(6000)}\nx${'\u{1F600}'.repeat(5000)}\nEND`);
    // Only a record that ends a line carries the newline.
    expect(logs.filter((l) => l.endsWith('\n'))).to.have.length(2);
  });
});
