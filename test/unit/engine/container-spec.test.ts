import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { containerHostname, containerResolvConf, writeContainerFiles } from '../../../lib/engine/container-files.js';
import { buildContainerSpec, type ContainerSpecContext, tweakCapabilities } from '../../../lib/engine/container-spec.js';
import type { CreateOptions } from '../../../lib/engine/create-options.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { ImageConfig } from '../../../lib/oci/image-config.js';
import type { Spec } from '../../../lib/oci/runtime-spec.js';
import { DEFAULT_CAPABILITIES, readPermittedCapabilities } from '../../../lib/runtime/spec/capabilities.js';
import { describeErrors, loadConfigValidator } from '../../fixtures/runtime-spec-schema/schema.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Cmd: ['sh'], Env: ['IMG=1'], StopSignal: 'SIGQUIT', User: 'app' },
  rootfs: { type: 'layers', diff_ids: [] },
};
const ID = 'f'.repeat(12) + '0'.repeat(52);
const HOST_LIMITS = { RLIMIT_NOFILE: { soft: 1024, hard: 20000 } };

describe('engine/container-spec: the spec built from image and options', () => {
  let dir: string;
  let rootfs: string;
  let ctx: ContainerSpecContext;

  before(async () => {
    dir = await makeTempDir('engine-spec');
    rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n');
    ctx = { rootfs, id: ID, hostRlimits: HOST_LIMITS, swapAccounting: true };
  });

  after(async () => {
    await removeTempDir(dir);
  });

  const build = (options: CreateOptions, extra: Partial<ContainerSpecContext> = {}): Promise<Spec> => buildContainerSpec(IMAGE, options, { ...ctx, ...extra });

  async function failure(p: Promise<unknown>): Promise<unknown> {
    return p.then(
      () => {
        throw new Error('resolved');
      },
      (e: unknown) => e,
    );
  }

  it('has dockerd’s defaults: image user with groups, no /run tmpfs, inherited rlimits, no_new_privs off, seccomp on', async () => {
    const spec = await build({});
    const p = spec.process!;
    expect(spec.root).to.deep.equal({ path: rootfs, readonly: false });
    expect(p.args).to.deep.equal(['sh']);
    expect(p.env).to.deep.equal(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${'f'.repeat(12)}`, 'IMG=1']);
    expect(p.user).to.deep.equal({ uid: 1000, gid: 1000, additionalGids: [1000, 10] });
    expect(p.cwd).to.equal('/');
    expect(p.terminal).to.equal(false);
    expect(p.noNewPrivileges).to.equal(false);
    expect(p.rlimits).to.equal(undefined);
    expect(p.capabilities!.bounding).to.deep.equal([...DEFAULT_CAPABILITIES]);
    expect(spec.hostname).to.equal('f'.repeat(12));
    expect(spec.annotations).to.deep.equal({ 'org.opencontainers.image.stopSignal': 'SIGQUIT' });
    expect(spec.mounts!.map((m) => m.destination)).to.deep.equal(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
    expect(spec.linux!.namespaces!.map((n) => n.type)).to.include('network');
    expect(spec.linux!.cgroupsPath).to.equal(`/containerkit/${ID}`);
    expect(spec.linux!.seccomp?.defaultAction).to.equal('SCMP_ACT_ERRNO');
    expect(spec.linux!.maskedPaths).to.include('/proc/kcore');
    expect(spec.linux!.sysctl).to.deep.equal({ 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
  });

  it('treats an option given as undefined as not given', async () => {
    const spec = await build({ tty: undefined, init: undefined, network: undefined, privileged: undefined });
    expect(spec.process!.terminal).to.equal(false);
    expect(spec.process!.args).to.deep.equal(['sh']);
  });

  it('host network: no network namespace, the host’s name', async () => {
    const spec = await build({ network: 'host' });
    expect(spec.linux!.namespaces!.map((n) => n.type)).to.not.include('network');
    expect(spec.linux!.sysctl, 'the host’s sysctls are not the container’s to change').to.equal(undefined);
    expect(spec.hostname).to.equal(hostHostname());
    expect(spec.process!.env).to.include(`HOSTNAME=${hostHostname()}`);
  });

  it('mounts binds (rbind, ro, propagation) and tmpfs as docker, parents first; shared propagation makes the root shared', async () => {
    const src = join(dir, 'src');
    await mkdir(src, { recursive: true });
    const spec = await build({
      mounts: [
        { type: 'tmpfs', target: '/data/cache', size: 1 << 20, mode: 0o700, readonly: true },
        { type: 'bind', source: src, target: '/data', readonly: true, propagation: 'rshared' },
        { type: 'bind', source: src, target: '/other' },
      ],
    });
    const user = spec.mounts!.slice(7);
    expect(user).to.deep.equal([
      { destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro', 'rshared'] },
      { destination: '/other', type: 'bind', source: src, options: ['rbind', 'rw', 'rprivate'] },
      { destination: '/data/cache', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=700', `size=${1 << 20}`, 'ro'] },
    ]);
    expect(spec.linux!.rootfsPropagation).to.equal('shared');
  });

  it('bind-mounts the container files, read-only with a read-only rootfs; a user mount on the same target wins', async () => {
    const files = await writeContainerFiles(join(dir, 'c1'), { hostname: 'h1' });
    const spec = await build({ readonlyRootfs: true }, { files });
    expect(spec.root!.readonly).to.equal(true);
    expect(spec.mounts!.slice(7)).to.deep.equal([
      { destination: '/etc/resolv.conf', type: 'bind', source: files.resolvConfPath, options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: files.hostnamePath, options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: files.hostsPath, options: ['rbind', 'ro', 'rprivate'] },
    ]);
    const own = await build({ mounts: [{ type: 'bind', source: files.hostsPath, target: '/etc/hosts', readonly: true }] }, { files });
    expect(own.mounts!.filter((m) => m.destination === '/etc/hosts')).to.deep.equal([
      { destination: '/etc/hosts', type: 'bind', source: files.hostsPath, options: ['rbind', 'ro', 'rprivate'] },
    ]);
    const etc = await build({ mounts: [{ type: 'bind', source: dir, target: '/etc' }] }, { files });
    expect(
      etc.mounts!.slice(7).map((m) => m.destination),
      'a parent before its children',
    ).to.deep.equal(['/etc', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
  });

  it('applies docker’s capability rules; privileged takes every held capability and drops the confinement', async () => {
    const base = DEFAULT_CAPABILITIES;
    const all = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN'];
    expect(tweakCapabilities(base, [], ['chown'], all)).to.deep.equal(base.filter((c) => c !== 'CAP_CHOWN'));
    expect(tweakCapabilities(base, ['CHOWN'], ['CHOWN'], all)).to.deep.equal([...base.filter((c) => c !== 'CAP_CHOWN'), 'CAP_CHOWN']);
    expect(tweakCapabilities(base, ['sys_admin'], [], all)).to.deep.equal([...base, 'CAP_SYS_ADMIN']);
    expect(tweakCapabilities(base, ['ALL'], ['KILL'], all)).to.deep.equal(['CAP_CHOWN', 'CAP_SYS_ADMIN']);
    expect(tweakCapabilities(base, ['NET_ADMIN'], ['ALL'], all)).to.deep.equal(['CAP_NET_ADMIN']);
    const held = await readPermittedCapabilities();
    const allSpec = await build({ capAdd: ['ALL'] });
    expect(allSpec.process!.capabilities!.effective).to.deep.equal(held);
    const privileged = await build({ privileged: true, capDrop: ['ALL'] });
    expect(privileged.process!.capabilities!.bounding).to.deep.equal(held);
    expect(privileged.linux!.maskedPaths).to.equal(undefined);
    expect(privileged.linux!.readonlyPaths).to.equal(undefined);
    expect(privileged.linux!.seccomp).to.equal(undefined);
    expect(privileged.linux!.resources!.devices).to.deep.equal([{ allow: true, access: 'rwm' }]);
    expect(privileged.linux!.devices).to.deep.include({ type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 });
    expect(privileged.linux!.devices!.map((d) => d.path)).to.not.include.members(['/dev/console', '/dev/pts/ptmx']);
    expect(allSpec.linux!.devices).to.equal(undefined);
  });

  it('sets cgroup limits; swap defaults to twice the memory where it is accounted', async () => {
    const spec = await build({ resources: { memory: 64 << 20, cpus: 1.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 50 } });
    expect(spec.linux!.resources).to.deep.include({
      memory: { limit: 64 << 20, swap: 128 << 20 },
      cpu: { quota: 150000, period: 100000, shares: 512, cpus: '0' },
      pids: { limit: 50 },
    });
    const noSwap = await build({ resources: { memory: 64 << 20, memorySwap: -1 } }, { swapAccounting: false });
    expect(noSwap.linux!.resources!.memory).to.deep.equal({ limit: 64 << 20 });
    const unlimited = await build({ resources: { memory: 64 << 20, memorySwap: -1 } });
    expect(unlimited.linux!.resources!.memory).to.deep.equal({ limit: 64 << 20, swap: -1 });
  });

  it('clamps ulimits to the engine’s own; tty adds TERM; init wraps argv in /sbin/docker-init', async () => {
    const spec = await build({ ulimits: [{ type: 'nofile', soft: 1 << 20, hard: 1 << 20 }], tty: true, init: true, cmd: ['top'] });
    expect(spec.process!.rlimits).to.deep.equal([{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
    expect(spec.process!.terminal).to.equal(true);
    expect(spec.process!.env).to.include('TERM=xterm');
    expect(spec.process!.args).to.deep.equal(['/sbin/docker-init', '--', 'top']);
    expect(spec.mounts!.find((m) => m.destination === '/sbin/docker-init')).to.deep.equal({
      destination: '/sbin/docker-init',
      type: 'bind',
      source: '/usr/bin/tini-static',
      options: ['bind', 'ro'],
    });
  });

  it('creates the workdir inside the rootfs, even through a symlink pointing out of it', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(rootfs, 'link'));
    const spec = await build({ workdir: '/link/work' });
    expect(spec.process!.cwd).to.equal('/link/work');
    expect(existsSync(join(outside, 'work')), 'created on the host').to.equal(false);
    expect(existsSync(join(rootfs, outside, 'work')), 'created in the rootfs').to.equal(true);
    await writeFile(join(rootfs, 'file'), '');
    expect(hasCode(await failure(build({ workdir: '/file/sub' })), 'ERR_FAILED_PRECONDITION')).to.equal(true);
  });

  it('validates before any work: nothing is created for a bad option, a missing command or an unknown user', async () => {
    const cases: Array<[CreateOptions, string]> = [
      [{ workdir: '/made-1', resources: { pidsLimit: 0 } }, 'ERR_INVALID_ARGUMENT'],
      [{ workdir: '/made-2', entrypoint: [] }, 'ERR_NO_COMMAND'],
      [{ workdir: '/made-3', user: 'ghost' }, 'ERR_USER_NOT_FOUND'],
      [{ workdir: '/made-4', init: true }, 'ERR_TOOL_MISSING'],
    ];
    for (const [options, code] of cases) {
      const err = await failure(build(options, { initBinary: join(dir, 'no-tini') }));
      expect(hasCode(err, code as 'ERR_INVALID_ARGUMENT'), `${JSON.stringify(options)}: ${String(err)}`).to.equal(true);
      expect(existsSync(join(rootfs, options.workdir!))).to.equal(false);
    }
    expect(hasCode(await failure(buildContainerSpec(IMAGE, {}, { ...ctx, id: '../x' })), 'ERR_INVALID_ARGUMENT')).to.equal(true);
    expect(hasCode(await failure(buildContainerSpec(IMAGE, {}, { ...ctx, rootfs: 'rel' })), 'ERR_INVALID_ARGUMENT')).to.equal(true);
  });

  it('rejects with the signal’s reason when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await failure(build({}, { signal: controller.signal }))).to.equal(controller.signal.reason);
  });

  it('builds config.json documents valid against the OCI runtime-spec schema', async () => {
    const validate = loadConfigValidator();
    const src = join(dir, 'schema-src');
    await mkdir(src, { recursive: true });
    const files = await writeContainerFiles(join(dir, 'schema-files'), { hostname: 'h' });
    const everything: CreateOptions = {
      user: 'app',
      env: ['A=1'],
      workdir: '/w',
      tty: true,
      mounts: [
        { type: 'bind', source: src, target: '/src', propagation: 'rslave' },
        { type: 'tmpfs', target: '/t', size: 4096 },
      ],
      resources: { memory: 64 << 20, cpus: 1, cpuShares: 100, cpusetCpus: '0', pidsLimit: 10 },
      capAdd: ['NET_ADMIN'],
      readonlyRootfs: true,
      init: true,
      ulimits: [{ type: 'nproc', soft: 10, hard: 20 }],
    };
    for (const options of [{}, everything, { privileged: true }, { network: 'host' as const }]) {
      const doc: unknown = JSON.parse(JSON.stringify(await build(options, { files })));
      expect(validate(doc), `${JSON.stringify(options)}: ${describeErrors(validate.errors)}`).to.equal(true);
    }
  });
});

describe('engine/container-files: hosts, hostname and resolv.conf', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('engine-files');
  });
  after(async () => {
    await removeTempDir(dir);
  });

  it('drops loopback nameservers and falls back to docker’s defaults', () => {
    expect(containerResolvConf('search example.com\nnameserver 127.0.0.53\noptions edns0\n')).to.equal(
      'search example.com\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n',
    );
    expect(containerResolvConf('nameserver ::1\nnameserver 10.0.0.2\n')).to.equal('nameserver 10.0.0.2\n');
    expect(containerResolvConf('')).to.equal('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it('picks the hostname as docker does', () => {
    expect(containerHostname({}, 'abcdef0123456789')).to.equal('abcdef012345');
    expect(containerHostname({ hostname: 'web' }, 'abc')).to.equal('web');
    expect(containerHostname({ network: 'host' }, 'abc')).to.equal(hostHostname());
  });

  it('writes docker’s files for network none, and copies the host’s for network host', async () => {
    const hostResolvConf = join(dir, 'host-resolv.conf');
    const hostHosts = join(dir, 'host-hosts');
    await writeFile(hostResolvConf, 'nameserver 127.0.0.1\nnameserver 192.0.2.1\n');
    await writeFile(hostHosts, '127.0.0.1 localhost\n192.0.2.9 db\n');
    const none = await writeContainerFiles(join(dir, 'none'), { hostname: 'abc', hostResolvConf, hostHosts });
    expect(none).to.deep.equal({ hostsPath: join(dir, 'none/hosts'), hostnamePath: join(dir, 'none/hostname'), resolvConfPath: join(dir, 'none/resolv.conf') });
    expect(await readFile(none.hostnamePath, 'utf8')).to.equal('abc\n');
    expect(await readFile(none.resolvConfPath, 'utf8')).to.equal('nameserver 192.0.2.1\n');
    expect((await readFile(none.hostsPath, 'utf8')).split('\n')[0]).to.equal('127.0.0.1\tlocalhost');
    const host = await writeContainerFiles(join(dir, 'host'), { hostname: 'abc', network: 'host', hostResolvConf, hostHosts });
    expect(await readFile(host.resolvConfPath, 'utf8')).to.equal('nameserver 127.0.0.1\nnameserver 192.0.2.1\n');
    expect(await readFile(host.hostsPath, 'utf8')).to.equal('127.0.0.1 localhost\n192.0.2.9 db\n');
  });
});
