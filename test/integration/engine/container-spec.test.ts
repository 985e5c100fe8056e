import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { containerHostname, writeContainerFiles } from '../../../lib/engine/container-files.js';
import { buildContainerSpec, DEFAULT_INIT_BINARY } from '../../../lib/engine/container-spec.js';
import type { CreateOptions } from '../../../lib/engine/create-options.js';
import { parseMountFlag, parseVolumeFlag } from '../../../lib/engine/flags.js';
import { readHostDevices } from '../../../lib/engine/host-devices.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { ImageConfig } from '../../../lib/oci/image-config.js';
import { OCIRuntime } from '../../../lib/runtime/oci-runtime.js';
import { DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES, readPermittedCapabilities } from '../../../lib/runtime/spec/capabilities.js';
import type { ExitResult } from '../../../lib/runtime/types.js';
import { type BusyboxBundle, createBusyboxBundle } from '../../fixtures/bundle.js';

// Specs built by buildContainerSpec from an image config and docker-style options, run by real runc (as root) on a
// busybox rootfs: each option is checked by what the container sees and can do.

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\napp:x:2345:\nextra:x:3000:app\nother:x:3001:root\nnobody:x:65534:\n';

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'IMG=1', 'KEEP=image'],
    Cmd: ['sh'],
    StopSignal: 'SIGQUIT',
    Labels: { 'com.example.image': 'yes' },
  },
  rootfs: { type: 'layers', diff_ids: [] },
};

/** A capability mask as /proc/<pid>/status prints it. */
function mask(caps: readonly string[]): string {
  const bits = caps.reduce((m, c) => m | (1n << BigInt(KNOWN_CAPABILITIES.indexOf(c))), 0n);
  return bits.toString(16).padStart(16, '0');
}

describe('engine/container-spec with real runc', function () {
  this.timeout(60_000);
  let fixture: BusyboxBundle;
  let bundle: string;
  let rootfs: string;
  let runtime: OCIRuntime;

  before(async () => {
    fixture = await createBusyboxBundle();
    ({ bundle, rootfs } = fixture);
    await writeFile(join(rootfs, 'etc', 'passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc', 'group'), GROUP);
    runtime = new OCIRuntime({ root: fixture.root });
  });

  afterEach(async () => {
    const left = await runtime.list();
    for (const c of left) await runtime.delete(c.id, { force: true });
    expect(left.map((c) => c.id)).to.deep.equal([]);
  });

  after(async () => {
    await fixture?.cleanup();
  });

  /** Writes the container files, builds the spec with `cmd: ['sh', '-c', script]` and runs it in the foreground. */
  async function run(script: string, options: CreateOptions = {}, id = randomBytes(32).toString('hex')): Promise<ExitResult & { id: string }> {
    const files = await writeContainerFiles(join(fixture.dir, 'containers', id), { hostname: containerHostname(options, id), network: options.network });
    const spec = await buildContainerSpec(IMAGE, { cmd: ['sh', '-c', script], ...options }, { rootfs, id, files });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return { ...(await runtime.run(id, bundle, { stdio: 'pipe' })), id };
  }

  it('runs the image’s defaults: root with its groups, docker’s env, workdir /, default hostname and hosts files', async () => {
    const res = await run('id -u; id -G; pwd; hostname; cat /etc/hostname; env | sort; grep localhost /etc/hosts | head -1');
    expect(res.code, res.stderr).to.equal(0);
    const short = res.id.slice(0, 12);
    expect(res.stdout!.trim().split('\n')).to.deep.equal([
      '0',
      '0 3001',
      '/',
      short,
      short,
      `HOME=/root`,
      `HOSTNAME=${short}`,
      'IMG=1',
      'KEEP=image',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'PWD=/',
      'SHLVL=1',
      '127.0.0.1\tlocalhost',
    ]);
  });

  it('resolves the user from the rootfs’s /etc/passwd with its supplementary groups', async () => {
    const res = await run('id -u; id -g; id -G', { user: 'app' });
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout!.trim().split('\n')).to.deep.equal(['1234', '2345', '2345 3000']);
    const byGroup = await run('id -u; id -g', { user: 'app:extra' });
    expect(byGroup.stdout!.trim().split('\n')).to.deep.equal(['1234', '3000']);
  });

  it('creates a missing workdir inside the rootfs', async () => {
    expect(existsSync(join(rootfs, 'srv/app/data'))).to.equal(false);
    const res = await run('pwd; touch here', { workdir: '/srv/app/data' });
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.equal('/srv/app/data\n');
    const st = await stat(join(rootfs, 'srv/app/data'));
    expect(st.isDirectory()).to.equal(true);
    expect(st.uid).to.equal(0);
    expect(existsSync(join(rootfs, 'srv/app/data/here'))).to.equal(true);
  });

  it('merges env over the image’s: options win, a bare key unsets', async () => {
    const res = await run('env | sort', { env: ['KEEP=option', 'NEW=2', 'IMG'] });
    expect(res.code, res.stderr).to.equal(0);
    const env = res.stdout!.trim().split('\n');
    expect(env).to.include.members(['KEEP=option', 'NEW=2']);
    expect(env.filter((e) => e.startsWith('IMG='))).to.deep.equal([]);
  });

  it('mounts a bind read-only (writes refused) and a tmpfs with its size, mode and noexec', async () => {
    const host = join(fixture.dir, 'shared');
    await mkdir(host, { recursive: true });
    await writeFile(join(host, 'file'), 'from host\n');
    const res = await run(
      'cat /data/file; touch /data/new || echo REFUSED; grep " /scratch " /proc/mounts; stat -c %a /scratch; touch /scratch/ok && echo WROTE',
      {
        mounts: [parseVolumeFlag(`${host}:/data:ro`), parseMountFlag('type=tmpfs,dst=/scratch,tmpfs-size=1m,tmpfs-mode=0750')],
      },
    );
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout!.trim().split('\n');
    expect(lines[0]).to.equal('from host');
    expect(lines[1]).to.equal('REFUSED');
    expect(res.stderr).to.include('Read-only file system');
    expect(lines[2]).to.match(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,.*size=1024k,mode=750/);
    expect(lines.slice(3)).to.deep.equal(['750', 'WROTE']);
    expect(existsSync(join(host, 'new'))).to.equal(false);
  });

  it('runs with shared and slave bind propagation (the root made shared or slave to match)', async () => {
    const host = join(fixture.dir, 'propagated');
    await mkdir(host, { recursive: true });
    for (const propagation of ['rshared', 'rslave'] as const) {
      const res = await run('grep " /p " /proc/self/mountinfo', { mounts: [{ type: 'bind', source: host, target: '/p', propagation }] });
      expect(res.code, `${propagation}: ${res.stderr}`).to.equal(0);
    }
  });

  it('refuses a missing --mount bind source, creates a missing -v one', async () => {
    const missing = join(fixture.dir, 'missing-src');
    const err = await buildContainerSpec(IMAGE, { mounts: [parseMountFlag(`type=bind,src=${missing},dst=/m`)] }, { rootfs, id: 'x1' }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_INVALID_ARGUMENT') && err.details.option).to.equal('mounts[0].source');
    const res = await run('ls -d /m', { mounts: [parseVolumeFlag(`${missing}:/m`)] });
    expect(res.code, res.stderr).to.equal(0);
    expect((await stat(missing)).isDirectory()).to.equal(true);
  });

  it('refuses writes to a read-only rootfs, the container files included', async () => {
    const res = await run('touch /probe || echo ROOT; echo x >> /etc/hosts || echo HOSTS', { readonlyRootfs: true });
    expect(res.stdout!.trim().split('\n')).to.deep.equal(['ROOT', 'HOSTS']);
    expect(existsSync(join(rootfs, 'probe'))).to.equal(false);
  });

  it('drops and adds capabilities as docker does, visible in CapEff', async () => {
    const capEff = async (options: CreateOptions): Promise<string> => {
      const res = await run('grep ^CapEff: /proc/self/status', options);
      expect(res.code, res.stderr).to.equal(0);
      return res.stdout!.trim().split(/\s+/)[1]!;
    };
    expect(await capEff({})).to.equal(mask(DEFAULT_CAPABILITIES));
    expect(await capEff({ capDrop: ['CHOWN', 'cap_kill'] })).to.equal(mask(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL')));
    expect(await capEff({ capDrop: ['ALL'], capAdd: ['NET_ADMIN'] })).to.equal(mask(['CAP_NET_ADMIN']));
    const chown = await run('touch /tmp/o && chown 1 /tmp/o', { capDrop: ['CHOWN'] });
    expect(chown.stderr).to.include('Operation not permitted');
  });

  it('privileged: every capability the engine holds, no seccomp, no masked paths; no_new_privs only when asked', async () => {
    const script = 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status | tr -s "\\t" " "; grep -c " /proc/keys " /proc/self/mountinfo';
    const confined = await run(script);
    expect(confined.stdout!.trim().split('\n')).to.deep.equal([`CapEff: ${mask(DEFAULT_CAPABILITIES)}`, 'NoNewPrivs: 0', 'Seccomp: 2', '1']);
    const privileged = await run(script, { privileged: true });
    expect(privileged.stdout!.trim().split('\n')).to.deep.equal([`CapEff: ${mask(await readPermittedCapabilities())}`, 'NoNewPrivs: 0', 'Seccomp: 0', '0']);
    // A host device runc does not create by default appears only in the privileged container.
    const runcDefaults = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx'];
    const device = (await readHostDevices()).find((d) => !runcDefaults.includes(d.path));
    if (device) {
      const probe = `[ -${device.type} ${device.path} ] && stat -c "%t:%T" ${device.path} || echo absent`;
      expect((await run(probe)).stdout).to.equal('absent\n');
      const seen = await run(probe, { privileged: true });
      expect(seen.stdout, seen.stderr).to.equal(`${device.major!.toString(16)}:${device.minor!.toString(16)}\n`);
    }
    const noNewPrivs = await run(script, { noNewPrivileges: true });
    expect(noNewPrivs.stdout!.trim().split('\n')[1]).to.equal('NoNewPrivs: 1');
  });

  it('network none: only lo, and it is up; resolv.conf without loopback nameservers; a user may bind port 80', async () => {
    const res = await run(
      'ls /sys/class/net; ip -o link show up | cut -d: -f2 | tr -d " "; grep -c nameserver /etc/resolv.conf; grep -c "^nameserver 127\\." /etc/resolv.conf',
    );
    expect(res.stdout!.trim().split('\n').slice(0, 2)).to.deep.equal(['lo', 'lo']);
    const [servers, loopback] = res.stdout!.trim().split('\n').slice(2);
    expect(Number(servers)).to.be.greaterThan(0);
    expect(loopback).to.equal('0');
    // Polls for the listening socket (port 80 is 0050 in /proc/net/tcp*); without the sysctl nc fails with EACCES.
    const listen =
      'nc -l -p 80 & for i in $(seq 1 25); do cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q ":0050 " && { echo bound; break; }; sleep 0.2; done; kill $!';
    const bind = await run(listen, { user: 'app' });
    expect(bind.stdout, bind.stderr).to.equal('bound\n');
  });

  it('network host: sees the host’s interfaces and gets the host’s name', async () => {
    const hostIfaces = (await readdir('/sys/class/net')).sort();
    const res = await run('ls /sys/class/net; hostname', { network: 'host' });
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout!.trim().split('\n');
    expect(lines.slice(0, -1).sort()).to.deep.equal(hostIfaces);
    expect(lines.at(-1)).to.equal(hostHostname());
  });

  it('init: tini is pid 1 and the command its child', async () => {
    const res = await run('tr "\\0" " " < /proc/1/cmdline; echo; echo $$; grep ^PPid: /proc/$$/status | cut -f2', { init: true });
    expect(res.code, res.stderr).to.equal(0);
    const [pid1, shell, shellParent] = res.stdout!.trim().split('\n');
    expect(pid1!.trim()).to.match(/^\/sbin\/docker-init -- sh -c /);
    expect(shell).to.not.equal('1');
    expect(shellParent).to.equal('1');
    const without = await run('tr "\\0" " " < /proc/1/cmdline; echo');
    expect(without.stdout!.trim()).to.match(/^sh -c /);
  });

  it('init without tini on the host fails with ERR_TOOL_MISSING before anything runs', async () => {
    const err = await buildContainerSpec(IMAGE, { init: true }, { rootfs, id: 'x2', initBinary: '/nonexistent/tini-static' }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_TOOL_MISSING')).to.equal(true);
    expect(existsSync(DEFAULT_INIT_BINARY)).to.equal(true);
  });

  it('enforces the pids limit and sets the memory limit', async () => {
    const script =
      'cat /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; echo started';
    const res = await run(script, { resources: { pidsLimit: 8, memory: 64 * 1024 * 1024 } });
    const lines = res.stdout!.trim().split('\n');
    expect(lines.slice(0, 2)).to.deep.equal(['8', String(64 * 1024 * 1024)]);
    expect(res.stderr).to.match(/can't fork|Resource temporarily unavailable/);
  });

  it('uses the hostname option in the UTS namespace and /etc/hostname', async () => {
    const res = await run('hostname; cat /etc/hostname', { hostname: 'web-1' });
    expect(res.stdout).to.equal('web-1\nweb-1\n');
  });

  it('fails with ERR_NO_COMMAND when entrypoint is cleared and no cmd is given', async () => {
    const err = await buildContainerSpec(IMAGE, { entrypoint: [''] }, { rootfs, id: 'x3' }).catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_NO_COMMAND')).to.equal(true);
  });
});
