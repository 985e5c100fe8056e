import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { createDefaultSpec } from '../../../lib/runtime/spec/defaults.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';

// The default spec must equal containerd's default Linux spec (pkg/oci/spec.go, mounts.go) plus the read-only
// cgroup mount, Docker's seccomp profile and a default PATH. The lists are written out here as facts.

const CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

describe('runtime/spec defaults', () => {
  it('matches containerd’s process defaults', async () => {
    const spec = await generateSpec([], { hostRlimits: {} });
    expect(spec.ociVersion).to.equal('1.0.2-dev');
    expect(spec.root).to.deep.equal({ path: 'rootfs', readonly: false });
    const p = spec.process!;
    expect(p.terminal).to.equal(false);
    expect(p.user).to.deep.equal({ uid: 0, gid: 0 });
    expect(p.cwd).to.equal('/');
    expect(p.noNewPrivileges).to.equal(true);
    expect(p.env).to.deep.equal(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(p.args).to.equal(undefined);
    expect(p.capabilities).to.deep.equal({ bounding: CAPS, effective: CAPS, permitted: CAPS });
    expect(p.rlimits).to.deep.equal([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
  });

  it('has containerd’s mounts and the read-only cgroup mount, in order', async () => {
    const spec = await generateSpec([], { hostRlimits: {} });
    expect(spec.mounts).to.deep.equal([
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ]);
  });

  it('has containerd’s masked and read-only paths, namespaces and device rule', async () => {
    const linux = (await generateSpec([], { hostRlimits: {} })).linux!;
    expect(linux.maskedPaths).to.deep.equal([
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
      '/proc/scsi',
    ]);
    expect(linux.readonlyPaths).to.deep.equal(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    expect(linux.namespaces).to.deep.equal([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }]);
    expect(linux.resources).to.deep.equal({ devices: [{ allow: false, access: 'rwm' }] });
    expect(linux.cgroupsPath).to.equal(undefined);
  });

  it('puts the cgroup under /<namespace>/<id>', async () => {
    expect((await generateSpec([], { id: 'web-1', hostRlimits: {} })).linux!.cgroupsPath).to.equal('/containerkit/web-1');
    expect((await generateSpec([], { id: 'web-1', namespace: 'k8s.io', hostRlimits: {} })).linux!.cgroupsPath).to.equal('/k8s.io/web-1');
  });

  it('turns Docker’s default seccomp profile on, resolved for the default capabilities', async () => {
    const seccomp = (await generateSpec([], { arch: 'x64', hostRlimits: {} })).linux!.seccomp!;
    expect(seccomp.defaultAction).to.equal('SCMP_ACT_ERRNO');
    expect(seccomp.defaultErrnoRet).to.equal(1);
    expect(seccomp.architectures).to.deep.equal(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const allowed = seccomp.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names);
    expect(allowed).to.include.members(['read', 'write', 'execve', 'chown', 'arch_prctl', 'chroot']);
    for (const name of ['mount', 'unshare', 'setns', 'reboot', 'kcmp', 'init_module']) expect(allowed).to.not.include(name);
  });

  it('returns a fresh spec each time', () => {
    const a = createDefaultSpec();
    a.mounts![0]!.options!.push('changed');
    a.process!.capabilities!.bounding!.pop();
    const b = createDefaultSpec();
    expect(b.mounts![0]!.options).to.deep.equal(['nosuid', 'noexec', 'nodev']);
    expect(b.process!.capabilities!.bounding).to.have.length(14);
  });

  it('validates its options before any work', async () => {
    for (const bad of [{ id: 'a/b' }, { id: '..' }, { namespace: '' }, { clampRlimits: 'yes' }, { rootfs: '' }]) {
      const err = await generateSpec([], bad as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasCode(err, 'ERR_INVALID_ARGUMENT'), JSON.stringify(bad)).to.equal(true);
    }
    const notOpt = await generateSpec(['x' as never]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasCode(notOpt, 'ERR_INVALID_ARGUMENT')).to.equal(true);
  });

  it('rejects with the reason of an aborted signal', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    const err = await generateSpec([], { signal: ac.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.equal(reason);
  });
});
