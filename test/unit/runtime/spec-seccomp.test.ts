import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import type { LinuxSeccomp } from '../../../lib/oci/runtime-spec.js';
import { DEFAULT_CAPABILITIES } from '../../../lib/runtime/spec/capabilities.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withAddedCapabilities, withoutSeccomp, withPrivileged, withSeccompProfile } from '../../../lib/runtime/spec/opts-security.js';
import { DEFAULT_SECCOMP_PROFILE } from '../../../lib/runtime/spec/seccomp-default.js';
import { nativeArch, resolveSeccompProfile } from '../../../lib/runtime/spec/seccomp-profile.js';

/** Names allowed without conditions on their arguments. */
function plainAllowed(s: LinuxSeccomp): string[] {
  return s.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names);
}

function resolve(caps: readonly string[], arch = 'x64', kernelRelease = '6.1.0-18-amd64'): LinuxSeccomp {
  return resolveSeccompProfile(DEFAULT_SECCOMP_PROFILE, { capabilities: caps, arch, kernelRelease });
}

const SYS_ADMIN_CALLS = ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'setdomainname', 'clone', 'clone3', 'open_tree', 'fsopen'];

describe('runtime/spec seccomp', () => {
  it('denies with EPERM by default and allows the common syscalls', () => {
    const s = resolve(DEFAULT_CAPABILITIES);
    expect(s.defaultAction).to.equal('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).to.equal(1);
    expect(plainAllowed(s)).to.include.members(['read', 'write', 'openat', 'execve', 'exit_group', 'futex', 'socketpair']);
    expect(plainAllowed(s)).to.include('chroot'); // CAP_SYS_CHROOT is a default capability
  });

  it('keeps the CAP_SYS_ADMIN group out without CAP_SYS_ADMIN', () => {
    const allowed = plainAllowed(resolve(DEFAULT_CAPABILITIES));
    for (const name of SYS_ADMIN_CALLS) expect(allowed, name).to.not.include(name);
  });

  it('restricts clone to no namespace flags and makes clone3 fail with ENOSYS without CAP_SYS_ADMIN', () => {
    const s = resolve(DEFAULT_CAPABILITIES);
    const clone = s.syscalls!.filter((r) => r.names.includes('clone'));
    expect(clone).to.deep.equal([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    expect(s.syscalls!.filter((r) => r.names.includes('clone3'))).to.deep.equal([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  });

  it('unlocks mount, unshare, setns, clone… with CAP_SYS_ADMIN', () => {
    const s = resolve([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
    const allowed = plainAllowed(s);
    for (const name of SYS_ADMIN_CALLS) expect(allowed, name).to.include(name);
    expect(s.syscalls!.some((r) => r.action === 'SCMP_ACT_ERRNO')).to.equal(false);
    expect(s.syscalls!.some((r) => r.names.includes('clone') && r.args)).to.equal(false);
  });

  it('unlocks the other capability groups one by one', () => {
    const cases: Array<[string, string[]]> = [
      ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise']],
      ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
      ['CAP_SYS_BOOT', ['reboot']],
      ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
      ['CAP_BPF', ['bpf']],
      ['CAP_PERFMON', ['perf_event_open']],
    ];
    for (const [cap, names] of cases) {
      expect(plainAllowed(resolve(DEFAULT_CAPABILITIES)), cap).to.not.include.members(names);
      expect(plainAllowed(resolve([...DEFAULT_CAPABILITIES, cap])), cap).to.include.members(names);
    }
  });

  it('allows the five personas only', () => {
    const values = resolve(DEFAULT_CAPABILITIES)
      .syscalls!.filter((r) => r.names.includes('personality'))
      .map((r) => r.args![0]!.value);
    expect(values).to.deep.equal([0, 8, 131072, 131080, 4294967295]);
  });

  it('allows socket for every family but AF_ALG (38) and AF_VSOCK (40)', () => {
    const rules = resolve(DEFAULT_CAPABILITIES).syscalls!.filter((r) => r.names.includes('socket'));
    expect(rules.map((r) => r.args)).to.deep.equal([
      [{ index: 0, value: 38, op: 'SCMP_CMP_LT' }],
      [{ index: 0, value: 39, op: 'SCMP_CMP_EQ' }],
      [{ index: 0, value: 40, op: 'SCMP_CMP_GT' }],
    ]);
  });

  it('picks the architectures and arch-only syscalls of the host', () => {
    const amd64 = resolve(DEFAULT_CAPABILITIES, 'x64');
    expect(amd64.architectures).to.deep.equal(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(plainAllowed(amd64)).to.include.members(['arch_prctl', 'modify_ldt']);
    const arm64 = resolve(DEFAULT_CAPABILITIES, 'arm64');
    expect(arm64.architectures).to.deep.equal(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(plainAllowed(arm64)).to.include.members(['cacheflush', 'set_tls']);
    expect(plainAllowed(arm64)).to.not.include('arch_prctl');
    expect(resolve(DEFAULT_CAPABILITIES, 'riscv64').architectures).to.deep.equal(['SCMP_ARCH_RISCV64']);
    const s390x = resolve(DEFAULT_CAPABILITIES, 's390x');
    expect(s390x.syscalls!.find((r) => r.names.includes('clone'))!.args![0]!.index).to.equal(1);
    expect(nativeArch('x64')).to.equal('amd64');
    expect(nativeArch('amd64')).to.equal('amd64');
  });

  it('honours minKernel: ptrace needs 4.8', () => {
    expect(plainAllowed(resolve(DEFAULT_CAPABILITIES, 'x64', '4.8.0'))).to.include('ptrace');
    expect(plainAllowed(resolve(DEFAULT_CAPABILITIES, 'x64', '4.4.0-210-generic'))).to.not.include('ptrace');
    expect(plainAllowed(resolve(DEFAULT_CAPABILITIES, 'x64', '3.10.0'))).to.not.include('ptrace');
  });

  it('passes a plain runtime-spec section through, and refuses contradictory profiles', () => {
    const plain = {
      defaultAction: 'SCMP_ACT_ALLOW' as const,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' as const }],
    };
    expect(resolveSeccompProfile(plain, { arch: 'x64' })).to.deep.equal(plain);
    const both = { ...plain, archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] };
    expect(() => resolveSeccompProfile(both))
      .to.throw()
      .that.satisfies((e: unknown) => hasCode(e, 'ERR_INVALID_ARGUMENT'));
    expect(() => resolveSeccompProfile({ ...plain, syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] })).to.throw();
  });

  it('is resolved by generateSpec for the final capabilities, whatever the option order', async () => {
    const spec = await generateSpec([withAddedCapabilities(['SYS_ADMIN'])], { hostRlimits: {} });
    expect(plainAllowed(spec.linux!.seccomp!)).to.include.members(['mount', 'unshare']);
  });

  it('is switched off by withoutSeccomp and withPrivileged, and replaced by withSeccompProfile', async () => {
    expect((await generateSpec([withoutSeccomp()], { hostRlimits: {} })).linux!.seccomp).to.equal(undefined);
    expect((await generateSpec([withPrivileged()], { hostRlimits: {} })).linux!.seccomp).to.equal(undefined);
    const custom = {
      defaultAction: 'SCMP_ACT_ALLOW' as const,
      syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' as const, includes: { caps: ['CAP_SYS_ADMIN'] } }],
    };
    const off = await generateSpec([withSeccompProfile(custom)], { hostRlimits: {} });
    expect(off.linux!.seccomp).to.deep.equal({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
    const on = await generateSpec([withSeccompProfile(custom), withAddedCapabilities(['CAP_SYS_ADMIN'])], { hostRlimits: {} });
    expect(on.linux!.seccomp!.syscalls).to.deep.equal([{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }]);
    expect(() => withSeccompProfile({} as never))
      .to.throw()
      .that.satisfies((e: unknown) => hasCode(e, 'ERR_INVALID_ARGUMENT'));
  });
});
