import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { OCIRuntime } from '../../../lib/runtime/oci-runtime.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withInit, withReadonlyRootfs } from '../../../lib/runtime/spec/opts-mounts.js';
import { withProcessArgs, withRlimits, withUser } from '../../../lib/runtime/spec/opts-process.js';
import { withAddedCapabilities, withDroppedCapabilities, withoutSeccomp } from '../../../lib/runtime/spec/opts-security.js';
import { readHostRlimits } from '../../../lib/runtime/spec/rlimits.js';
import type { SpecOpt } from '../../../lib/runtime/spec/spec-opt.js';
import type { ExitResult } from '../../../lib/runtime/types.js';
import { type BusyboxBundle, createBusyboxBundle } from '../../fixtures/bundle.js';

// Specs from generateSpec, run by real runc (as root) on a busybox bundle: each security default and option is
// checked by what the container can and cannot do, next to a control run showing the difference.

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345::/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';

describe('runtime/spec with real runc', function () {
  this.timeout(60_000);
  let fixture: BusyboxBundle;
  let base: string;
  let bundle: string;
  let rootfs: string;
  let stateRoot: string;
  let runtime: OCIRuntime;
  let count = 0;
  const ids: string[] = [];

  before(async () => {
    fixture = await createBusyboxBundle();
    ({ dir: base, bundle, rootfs, root: stateRoot } = fixture);
    await writeFile(join(rootfs, 'etc', 'passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:2345:\nnobody:x:65534:\n');
    runtime = new OCIRuntime({ root: stateRoot });
  });

  afterEach(async () => {
    // No leftover state: runc's foreground run deletes the container; nothing stays in the state root, and the
    // container's own cgroup is gone (the /containerkit parent may stay, as containerd's namespace dirs do).
    const left = await runtime.list();
    for (const c of left) await runtime.delete(c.id, { force: true });
    expect(left.map((c) => c.id)).to.deep.equal([]);
    expect(existsSync(stateRoot) ? await readdir(stateRoot) : []).to.deep.equal([]);
    for (const id of ids) expect(existsSync(`/sys/fs/cgroup/pids/containerkit/${id}`), `cgroup of ${id}`).to.equal(false);
    ids.length = 0;
  });

  after(async () => {
    await fixture?.cleanup();
  });

  /** Generates config.json for `script` (run by sh) with `opts`, and runs it in the foreground. */
  async function run(script: string, ...opts: SpecOpt[]): Promise<ExitResult> {
    const id = `ck-spec-${process.pid}-${++count}`;
    ids.push(id);
    const spec = await generateSpec([withProcessArgs('sh', '-c', script), ...opts], { rootfs, id });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return runtime.run(id, bundle, { stdio: 'pipe' });
  }

  it('runs echo with the default spec: seccomp filter on, rlimits as set', async () => {
    const res = await run('echo hello; grep ^Seccomp: /proc/self/status; ulimit -n; ulimit -Hn; grep :pids: /proc/self/cgroup');
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout!.trim().split('\n');
    expect(lines.slice(0, 4)).to.deep.equal(['hello', 'Seccomp:\t2', '1024', '1024']);
    expect(lines[4]).to.match(new RegExp(`^\\d+:pids:/containerkit/${ids.at(-1)!}$`)); // the default cgroup path
  });

  it('clamps a nofile limit above the host’s hard limit, so runc can set it', async () => {
    const hostHard = (await readHostRlimits()).RLIMIT_NOFILE!.hard;
    const want = Math.min(hostHard, 1048576);
    const res = await run('ulimit -Sn; ulimit -Hn', withRlimits([{ type: 'nofile', soft: 1048576, hard: 1048576 }]));
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout!.trim().split('\n')).to.deep.equal([String(want), String(want)]);
  });

  it('runs as a user resolved from /etc/passwd', async () => {
    const res = await run('id -u; id -g', withUser('app'));
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout!.trim().split('\n')).to.deep.equal(['1234', '2345']);
  });

  it('does not follow a symlinked /etc/passwd out of the rootfs', async () => {
    const outside = join(base, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'passwd'), 'app:x:4242:4242::/:/bin/sh\n'); // the host file the link names
    await mkdir(join(rootfs, outside), { recursive: true });
    await writeFile(join(rootfs, outside, 'passwd'), 'app:x:1111:2222::/:/bin/sh\n'); // the same path in the rootfs
    await unlink(join(rootfs, 'etc', 'passwd'));
    await symlink(join(outside, 'passwd'), join(rootfs, 'etc', 'passwd'));
    try {
      const res = await run('id -u; id -g', withUser('app'));
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout!.trim().split('\n')).to.deep.equal(['1111', '2222']);
    } finally {
      await unlink(join(rootfs, 'etc', 'passwd'));
      await writeFile(join(rootfs, 'etc', 'passwd'), PASSWD);
      await rm(join(rootfs, base), { recursive: true, force: true });
    }
  });

  it('refuses writes to a read-only rootfs', async () => {
    const rw = await run('touch /probe && echo wrote && rm /probe');
    expect(rw.code, rw.stderr).to.equal(0);
    expect(rw.stdout).to.equal('wrote\n');
    const ro = await run('touch /probe', withReadonlyRootfs());
    expect(ro.code).to.not.equal(0);
    expect(ro.stderr).to.include('Read-only file system');
    expect(existsSync(join(rootfs, 'probe'))).to.equal(false);
  });

  it('refuses chown without CAP_CHOWN', async () => {
    const script = 'touch /tmp/owned && chown 1:1 /tmp/owned && echo chowned; rm -f /tmp/owned';
    const withCap = await run(script);
    expect(withCap.stdout, withCap.stderr).to.equal('chowned\n');
    const without = await run(script, withDroppedCapabilities(['CAP_CHOWN']));
    expect(without.stdout).to.equal('');
    expect(without.stderr).to.include('Operation not permitted');
  });

  it('blocks a syscall by seccomp: unshare of a user namespace fails with EPERM only under the profile', async () => {
    // Creating a user namespace needs no capability, so what refuses it here is the seccomp filter alone.
    const script = 'unshare -U true && echo unshared';
    const filtered = await run(script);
    expect(filtered.code).to.not.equal(0);
    expect(filtered.stderr).to.include('Operation not permitted');
    const unfiltered = await run(script, withoutSeccomp());
    expect(unfiltered.code, unfiltered.stderr).to.equal(0);
    expect(unfiltered.stdout).to.equal('unshared\n');
  });

  it('lets CAP_SYS_ADMIN through the profile: unshare -m works with it and fails without', async () => {
    const without = await run('unshare -m true');
    expect(without.code).to.not.equal(0);
    const withCap = await run('unshare -m true && echo ok', withAddedCapabilities(['CAP_SYS_ADMIN']));
    expect(withCap.code, withCap.stderr).to.equal(0);
    expect(withCap.stdout).to.equal('ok\n');
  });

  it('runs tini as PID 1, which reaps an orphaned zombie', async () => {
    // `sleep 0.1` is forked by a shell that then execs `sleep 2`, which never waits: the dead child stays a zombie
    // until its parent exits, is then re-parented to PID 1, and only an init that reaps makes it go away.
    const script = ['sh -c "sleep 0.1 & exec sleep 2" &', 'sleep 1; echo BEFORE; ps -o pid,stat,args', 'wait; sleep 1; echo AFTER; ps -o pid,stat,args'].join(
      '\n',
    );
    const res = await run(script, withInit());
    expect(res.code, res.stderr).to.equal(0);
    const [before, after] = res.stdout!.split('AFTER\n') as [string, string];
    const pid1 = before.split('\n').find((l) => /^\s*1\s/.test(l));
    expect(pid1).to.match(/\/sbin\/containerkit-init -- sh -c/);
    expect(
      before.split('\n').filter((l) => /^\s*\d+\s+Z/.test(l)),
      'a zombie existed',
    ).to.have.length(1);
    expect(
      after.split('\n').filter((l) => /^\s*\d+\s+Z/.test(l)),
      'no zombie left',
    ).to.deep.equal([]);
  });
});
