import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { parseContainerList, parseFeatures, parsePids, parseState, parseVersion } from '../../../lib/runtime/parse.js';
import { FEATURES, LIST_EMPTY, LIST_ONE, PS_ONE, STATE_CREATED, STATE_STOPPED, VERSION } from './captured.js';

function expectBadOutput(fn: () => unknown, mention: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(hasCode(thrown, 'ERR_RUNC_FAILED'), String(thrown)).to.equal(true);
  expect((thrown as Error).message).to.include(mention);
}

describe('runtime/parse', () => {
  it('parseState: a created container', () => {
    expect(parseState(STATE_CREATED)).to.deep.equal({
      ociVersion: '1.0.2-dev',
      id: 'cap1',
      pid: 12550,
      status: 'created',
      bundle: '/tmp/rx-uV9T/bundle',
      rootfs: '/tmp/rx-uV9T/bundle/rootfs',
      created: new Date('2026-11-28T03:37:07.561Z'),
      owner: '',
      annotations: { 'org.example.team': 'runtime' },
    });
  });

  it('parseState: a stopped container has pid 0', () => {
    const state = parseState(STATE_STOPPED);
    expect(state.status).to.equal('stopped');
    expect(state.pid).to.equal(0);
  });

  it('parseState rejects what is not a state', () => {
    expectBadOutput(() => parseState('not json'), 'runc state');
    expectBadOutput(() => parseState('[]'), 'not a JSON object');
    expectBadOutput(() => parseState(STATE_CREATED.replace('"created",', '"exploded",')), 'unknown status');
    expectBadOutput(() => parseState(STATE_CREATED.replace('"pid": 12550', '"pid": "12550"')), 'pid');
    expectBadOutput(() => parseState(STATE_CREATED.replace('2026-11-28T03:37:07.561905683Z', 'yesterday')), 'created');
  });

  it('parseContainerList: entries, and runc\'s "null" for none', () => {
    const list = parseContainerList(LIST_ONE);
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ id: 'cap1', status: 'running', owner: 'root', pid: 12550 });
    expect(parseContainerList(LIST_EMPTY)).to.deep.equal([]);
    expectBadOutput(() => parseContainerList('{}'), 'not a JSON array');
  });

  it('parsePids', () => {
    expect(parsePids(PS_ONE)).to.deep.equal([12550]);
    expect(parsePids('[1,2,3]\n')).to.deep.equal([1, 2, 3]);
    expectBadOutput(() => parsePids('UID PID PPID C STIME TTY TIME CMD'), 'runc ps');
    expectBadOutput(() => parsePids('[1,"2"]'), 'pids');
  });

  it('parseVersion: runc', () => {
    expect(parseVersion(VERSION)).to.deep.equal({
      name: 'runc',
      version: '1.1.5+ds1',
      commit: '1.1.5+ds1-1+deb12u1',
      spec: '1.0.2-dev',
      go: 'go1.19.8',
      libseccomp: '2.5.4',
      extra: {},
    });
  });

  it("parseVersion: crun's layout (rundir and a feature line go to extra)", () => {
    const crun =
      'crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +CRIU +YAJL\n';
    expect(parseVersion(crun)).to.deep.equal({
      name: 'crun',
      version: '1.8.1',
      commit: 'f8a096be060b22ccd3d5f3ebe44108517fbf6c30',
      spec: '1.0.0',
      extra: { rundir: '/run/crun', features: '+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +CRIU +YAJL' },
    });
    expectBadOutput(() => parseVersion('Usage: runc'), 'version');
  });

  it('parseFeatures', () => {
    const f = parseFeatures(FEATURES);
    expect(f.ociVersionMin).to.equal('1.0.0');
    expect(f.ociVersionMax).to.equal('1.0.2-dev');
    expect(f.hooks).to.deep.equal(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(f.mountOptions).to.include.members(['rbind', 'ro', 'nosuid', 'tmpcopyup']);
    expect(f.linux.namespaces).to.deep.equal(['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts']);
    expect(f.linux.capabilities).to.have.length(41);
    expect(f.linux.capabilities[0]).to.equal('CAP_CHOWN');
    expect(f.linux.cgroup).to.deep.equal({ v1: true, v2: true, systemd: true, systemdUser: true });
    expect(f.linux.seccomp.enabled).to.equal(true);
    expect(f.linux.seccomp.actions).to.include('SCMP_ACT_ERRNO');
    expect(f.linux.seccomp.archs).to.include('SCMP_ARCH_X86_64');
    expect(f.linux.apparmor).to.deep.equal({ enabled: true });
    expect(f.annotations['org.opencontainers.runc.checkpoint.enabled']).to.equal('true');
    expect(f.annotations['org.opencontainers.runc.version']).to.equal('1.1.5+ds1');
  });

  it('parseFeatures: missing sections read as empty or false; no versions is an error', () => {
    const f = parseFeatures('{"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0"}');
    expect(f.hooks).to.deep.equal([]);
    expect(f.linux.cgroup).to.deep.equal({ v1: false, v2: false, systemd: false, systemdUser: false });
    expect(f.linux.seccomp).to.deep.equal({ enabled: false, actions: [], operators: [], archs: [] });
    expect(f.annotations).to.deep.equal({});
    expectBadOutput(() => parseFeatures('{"hooks":[]}'), 'ociVersionMin');
  });
});
