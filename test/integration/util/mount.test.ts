import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type Mount, mountArgs } from '../../../lib/oci/mount.js';
import { runTool } from '../../../lib/util/exec.js';
import { mount, unmount } from '../../../lib/util/mount.js';

// The argv that oci's mountArgs returns and util's mount() runs, through real util-linux mount(8).
// Needs root (mount(2)), as the other integration tests do.
describe('oci mountArgs and util mount(): bind mounts through real mount(8)', () => {
  let dir: string;
  let source: string;
  let target: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ck-mount-'));
    source = join(dir, 'src');
    target = join(dir, 'dst');
    mkdirSync(source);
    mkdirSync(target);
    writeFileSync(join(source, 'f'), 'hello');
  });
  afterEach(async () => {
    await unmount(target).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  function writable(): boolean {
    try {
      writeFileSync(join(target, 'probe'), 'x');
      return true;
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).to.equal('EROFS');
      return false;
    }
  }

  const cases: Array<{ options: string[]; readonly: boolean }> = [
    { options: ['ro'], readonly: true },
    { options: [], readonly: false },
    { options: ['rbind', 'ro'], readonly: true },
    { options: ['bind', 'rw'], readonly: false },
  ];
  for (const { options, readonly } of cases) {
    it(`mountArgs: type bind, options [${options.join(',')}] mounts ${readonly ? 'read-only' : 'read-write'}`, async () => {
      const spec: Mount = { type: 'bind', source, options };
      await runTool('mount', mountArgs(spec, target));
      expect(readFileSync(join(target, 'f'), 'utf8')).to.equal('hello');
      expect(writable()).to.equal(!readonly);
    });
  }

  it('util mount() with the same spec gives the same result', async () => {
    await mount({ type: 'bind', source, options: ['ro'] }, target);
    expect(readFileSync(join(target, 'f'), 'utf8')).to.equal('hello');
    expect(writable()).to.equal(false);
  });
});
