import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import type { ImageConfig } from '../../../lib/oci/image-config.js';
import type { Spec } from '../../../lib/oci/runtime-spec.js';
import { readPermittedCapabilities } from '../../../lib/runtime/spec/capabilities.js';
import { applySpecOpts, generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withImageConfig } from '../../../lib/runtime/spec/opts-image.js';
import {
  withAnnotations,
  withCgroupsPath,
  withCPUQuota,
  withCPUShares,
  withCPUs,
  withHostNetwork,
  withHostname,
  withMemoryLimit,
  withNetNSPath,
  withPidsLimit,
} from '../../../lib/runtime/spec/opts-linux.js';
import { bindMount, tmpfsMount, withInit, withMounts, withReadonlyRootfs, withRootPath, withShmSize } from '../../../lib/runtime/spec/opts-mounts.js';
import { withCwd, withEnv, withNoNewPrivileges, withProcessArgs, withTTY } from '../../../lib/runtime/spec/opts-process.js';
import { withAddedCapabilities, withCapabilities, withDroppedCapabilities, withPrivileged } from '../../../lib/runtime/spec/opts-security.js';
import { composeSpecOpts, type SpecOpt } from '../../../lib/runtime/spec/spec-opt.js';
import { rejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const gen = (...opts: SpecOpt[]): Promise<Spec> => generateSpec(opts, { hostRlimits: {} });

function throwsInvalid(fn: () => unknown): void {
  expect(fn)
    .to.throw()
    .that.satisfies((e: unknown) => hasCode(e, 'ERR_INVALID_ARGUMENT'));
}

describe('runtime/spec options', () => {
  it('withProcessArgs, withCwd, withTTY, withNoNewPrivileges', async () => {
    const spec = await gen(withProcessArgs('sh', '-c', 'echo hi'), withCwd('/work'), withTTY(), withNoNewPrivileges(false));
    expect(spec.process).to.include({ cwd: '/work', terminal: true, noNewPrivileges: false });
    expect(spec.process!.args).to.deep.equal(['sh', '-c', 'echo hi']);
    throwsInvalid(() => withProcessArgs());
    throwsInvalid(() => withCwd('relative'));
  });

  it('withEnv merges like containerd: replace in place, append, unset', async () => {
    const spec = await gen(withEnv(['A=1', 'B=2', 'C=3']), withEnv(['B=two', 'D=4', 'A', 'PATH=/bin']));
    expect(spec.process!.env).to.deep.equal(['B=two', 'C=3', 'D=4', 'PATH=/bin']);
    const again = await gen(withEnv(['A=1']), withEnv(['A']), withEnv(['A=back']));
    expect(again.process!.env).to.deep.equal(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=back']);
    throwsInvalid(() => withEnv(['=x']));
  });

  it('withHostname, withAnnotations, withCgroupsPath, withRootPath, withReadonlyRootfs', async () => {
    const spec = await gen(
      withHostname('box'),
      withAnnotations({ a: '1' }),
      withAnnotations({ b: '2', a: 'again' }),
      withCgroupsPath('system.slice:ck:one'),
      withRootPath('/srv/rootfs'),
      withReadonlyRootfs(),
    );
    expect(spec.hostname).to.equal('box');
    expect(spec.annotations).to.deep.equal({ a: 'again', b: '2' });
    expect(spec.linux!.cgroupsPath).to.equal('system.slice:ck:one');
    expect(spec.root).to.deep.equal({ path: '/srv/rootfs', readonly: true });
    throwsInvalid(() => withHostname('x'.repeat(65)));
  });

  it('withMounts appends, and replaces a mount at the same destination', async () => {
    const spec = await gen(
      withMounts([bindMount('/srv/data', '/data', { readonly: true }), tmpfsMount('/dev/shm', { size: 1 << 20 })]),
      withMounts([bindMount('/srv/logs', '/logs', { recursive: false, propagation: 'rslave' })]),
    );
    const byDest = new Map(spec.mounts!.map((m) => [m.destination, m]));
    expect(byDest.get('/data')).to.deep.equal({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] });
    expect(byDest.get('/logs')!.options).to.deep.equal(['bind', 'rw', 'rslave']);
    expect(byDest.get('/dev/shm')).to.deep.equal({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=1048576'],
    });
    expect(spec.mounts!.map((m) => m.destination).filter((d) => d === '/dev/shm')).to.have.length(1);
    expect(spec.mounts!.at(-1)!.destination).to.equal('/logs');
    throwsInvalid(() => bindMount('relative', '/x'));
    throwsInvalid(() => withMounts([{ destination: 'x' }]));
  });

  it('withShmSize rewrites the size of /dev/shm', async () => {
    const spec = await gen(withShmSize(256 * 1024 * 1024));
    expect(spec.mounts!.find((m) => m.destination === '/dev/shm')!.options).to.deep.equal(['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=268435456']);
    const noShm: SpecOpt = (_c, s) => {
      s.mounts = s.mounts!.filter((m) => m.destination !== '/dev/shm');
    };
    expect(hasCode(await rejection(gen(noShm, withShmSize(1024))), 'ERR_FAILED_PRECONDITION')).to.equal(true);
    throwsInvalid(() => withShmSize(0));
  });

  it('resource limits: memory, CPUs, shares, quota, pids', async () => {
    const spec = await gen(withMemoryLimit(64 << 20), withCPUs(1.5), withCPUShares(512), withPidsLimit(100));
    expect(spec.linux!.resources).to.deep.equal({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 67108864 },
      cpu: { quota: 150000, period: 100000, shares: 512 },
      pids: { limit: 100 },
    });
    const q = await gen(withCPUQuota(50000, 200000));
    expect(q.linux!.resources!.cpu).to.deep.equal({ quota: 50000, period: 200000 });
    throwsInvalid(() => withCPUs(0));
    throwsInvalid(() => withCPUShares(1));
    throwsInvalid(() => withPidsLimit(0));
    throwsInvalid(() => withMemoryLimit(-1));
  });

  it('withNetNSPath joins a namespace; withHostNetwork drops it', async () => {
    const joined = await gen(withNetNSPath('/var/run/netns/ck'));
    expect(joined.linux!.namespaces!.filter((n) => n.type === 'network')).to.deep.equal([{ type: 'network', path: '/var/run/netns/ck' }]);
    const host = await gen(withHostNetwork());
    expect(host.linux!.namespaces!.map((n) => n.type)).to.deep.equal(['pid', 'ipc', 'uts', 'mount']);
  });

  it('capabilities: set, add, drop (names in any form, ALL)', async () => {
    const set = await gen(withCapabilities(['chown', 'CAP_KILL', 'Net_Raw']));
    expect(set.process!.capabilities).to.deep.equal({
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
      effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
      permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
    });
    const changed = await gen(withAddedCapabilities(['SYS_ADMIN', 'CAP_CHOWN']), withDroppedCapabilities(['CAP_CHOWN', 'mknod']));
    for (const set of ['bounding', 'effective', 'permitted'] as const) {
      expect(changed.process!.capabilities![set]).to.include('CAP_SYS_ADMIN').and.not.include.members(['CAP_CHOWN']);
      expect(changed.process!.capabilities![set]).to.not.include('CAP_MKNOD');
      expect(changed.process!.capabilities![set]).to.have.length(13);
    }
    const none = await gen(withDroppedCapabilities(['ALL']));
    expect(none.process!.capabilities).to.deep.equal({ bounding: [], effective: [], permitted: [] });
    throwsInvalid(() => withAddedCapabilities(['CAP_FLY']));
    throwsInvalid(() => withCapabilities(['ALL']));
  });

  it('withPrivileged: the caller’s capabilities, no seccomp, no masking, all devices, writable /sys', async () => {
    const spec = await gen(withPrivileged());
    const caps = await readPermittedCapabilities();
    expect(spec.process!.capabilities!.bounding).to.deep.equal(caps);
    expect(spec.process!.capabilities!.permitted).to.deep.equal(caps);
    expect(caps).to.include('CAP_SYS_ADMIN');
    expect(spec.linux!.seccomp).to.equal(undefined);
    expect(spec.linux!.maskedPaths).to.equal(undefined);
    expect(spec.linux!.readonlyPaths).to.equal(undefined);
    expect(spec.linux!.resources!.devices).to.deep.equal([{ allow: true, access: 'rwm' }]);
    expect(spec.mounts!.find((m) => m.destination === '/sys')!.options).to.deep.equal(['nosuid', 'noexec', 'nodev', 'rw']);
    expect(spec.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options)
      .to.include('rw')
      .and.not.include('ro');
  });

  it('withInit mounts tini read-only and wraps the final args, wherever it stands', async () => {
    const spec = await gen(withInit(), withProcessArgs('sleep', '1'));
    expect(spec.process!.args).to.deep.equal(['/sbin/containerkit-init', '--', 'sleep', '1']);
    expect(spec.mounts!.at(-1)).to.deep.equal({
      destination: '/sbin/containerkit-init',
      type: 'bind',
      source: '/usr/bin/tini-static',
      options: ['bind', 'ro'],
    });
    expect(hasCode(await rejection(gen(withInit())), 'ERR_INVALID_ARGUMENT')).to.equal(true);
    const missing = await rejection(gen(withInit({ hostPath: '/nonexistent/tini' }), withProcessArgs('true')));
    expect(hasCode(missing, 'ERR_TOOL_MISSING')).to.equal(true);
  });

  it('withImageConfig takes Entrypoint/Cmd/Env/WorkingDir/User/StopSignal', async () => {
    const base = await makeTempDir('spec-image');
    try {
      mkdirSync(join(base, 'etc'));
      writeFileSync(join(base, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n');
      writeFileSync(join(base, 'etc', 'group'), 'root:x:0:\nwww:x:33:\nlogs:x:4:web\n');
      const image: ImageConfig = {
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
        config: {
          Entrypoint: ['/docker-entrypoint.sh'],
          Cmd: ['nginx', '-g', 'daemon off;'],
          Env: ['PATH=/usr/sbin:/usr/bin', 'LANG=C'],
          WorkingDir: '/srv',
          User: 'web',
          StopSignal: 'SIGQUIT',
        },
      };
      const spec = await generateSpec([withEnv(['LANG=C.UTF-8']), withImageConfig(image)], { rootfs: base, hostRlimits: {} });
      expect(spec.process!.args).to.deep.equal(['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
      expect(spec.process!.env).to.deep.equal(['PATH=/usr/sbin:/usr/bin', 'LANG=C.UTF-8']);
      expect(spec.process!.cwd).to.equal('/srv');
      expect(spec.process!.user).to.deep.equal({ uid: 33, gid: 33, additionalGids: [33, 4] });
      expect(spec.annotations).to.deep.equal({ 'org.opencontainers.image.stopSignal': 'SIGQUIT' });

      const args = await generateSpec([withImageConfig(image, { args: ['nginx', '-t'] })], { rootfs: base, hostRlimits: {} });
      expect(args.process!.args).to.deep.equal(['/docker-entrypoint.sh', 'nginx', '-t']);
      const bare = await generateSpec([withImageConfig({ ...image, config: { Cmd: ['sh'] } })], { hostRlimits: {} });
      expect(bare.process).to.deep.include({ args: ['sh'], cwd: '/', env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] });
    } finally {
      await removeTempDir(base);
    }
  });

  it('composeSpecOpts applies in order; applySpecOpts changes an existing spec without adding seccomp', async () => {
    const both = composeSpecOpts(withProcessArgs('a'), withProcessArgs('b'));
    expect((await gen(both)).process!.args).to.deep.equal(['b']);
    throwsInvalid(() => composeSpecOpts('x' as never));
    const existing: Spec = { ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['x'] } };
    const out = await applySpecOpts(existing, [withCwd('/tmp'), withInit()], { hostRlimits: {} });
    expect(out).to.equal(existing);
    expect(out.process!.args).to.deep.equal(['/sbin/containerkit-init', '--', 'x']);
    expect(out.linux).to.equal(undefined);
  });
});
