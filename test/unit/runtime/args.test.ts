import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import {
  checkpointArgs,
  createArgs,
  deleteArgs,
  eventsArgs,
  execArgs,
  formatInterval,
  formatSignal,
  globalArgs,
  idArgs,
  killArgs,
  restoreArgs,
  runArgs,
  updateArgs,
  validateId,
  validateRuntimeOptions,
} from '../../../lib/runtime/args.js';

function expectInvalid(fn: () => unknown, mention: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(hasCode(thrown, 'ERR_INVALID_ARGUMENT'), `expected ERR_INVALID_ARGUMENT, got ${String(thrown)}`).to.equal(true);
  expect((thrown as Error).message).to.include(mention);
}

describe('runtime/args', () => {
  it('globalArgs: flags from the runtime options, rootless as a tri-state', () => {
    const cases: Array<[Parameters<typeof globalArgs>, string[]]> = [
      [[{}], []],
      [
        [{}, '/tmp/x/log.json'],
        ['--log', '/tmp/x/log.json', '--log-format', 'json'],
      ],
      [[{ root: '/run/ck', debug: true }], ['--debug', '--root', '/run/ck']],
      [[{ systemdCgroup: true }], ['--systemd-cgroup']],
      [[{ rootless: true }], ['--rootless=true']],
      [[{ rootless: false }], ['--rootless=false']],
      [[{ rootless: undefined }], []],
      [[{ criu: '/usr/sbin/criu' }], ['--criu', '/usr/sbin/criu']],
      // A shared log keeps the format asked for; private logs are always JSON.
      [
        [{ log: '/var/log/runc.log', logFormat: 'text' }, '/var/log/runc.log'],
        ['--log', '/var/log/runc.log', '--log-format', 'text'],
      ],
      [
        [{ log: '/var/log/runc.log', logFormat: 'text' }, '/tmp/private.json'],
        ['--log', '/tmp/private.json', '--log-format', 'json'],
      ],
      [
        [{ root: '/r', log: '/l', systemdCgroup: true, rootless: false, debug: true }, '/l'],
        ['--debug', '--log', '/l', '--log-format', 'json', '--root', '/r', '--systemd-cgroup', '--rootless=false'],
      ],
    ];
    for (const [input, expected] of cases) expect(globalArgs(...input), JSON.stringify(input)).to.deep.equal(expected);
  });

  it('validateRuntimeOptions rejects malformed options, naming them', () => {
    expectInvalid(() => validateRuntimeOptions({ binary: '' }), 'binary');
    expectInvalid(() => validateRuntimeOptions({ root: '' }), 'root');
    expectInvalid(() => validateRuntimeOptions({ logFormat: 'xml' as 'json' }), 'logFormat');
    expectInvalid(() => validateRuntimeOptions({ rootless: 'auto' as unknown as boolean }), 'rootless');
    expect(() => validateRuntimeOptions({ binary: 'crun', root: '/run/crun', rootless: true })).not.to.throw();
  });

  it('validateId accepts what runc accepts and nothing else', () => {
    for (const id of ['c1', 'a.b', 'a_b-c+d', 'x'.repeat(64), 'ABC123']) expect(() => validateId(id), id).not.to.throw();
    for (const id of ['', '.', '..', 'a/b', 'a b', 'é', '../x', 5, undefined]) expectInvalid(() => validateId(id), 'container id');
  });

  it('formatSignal: names upper-cased as given, numbers 1–64', () => {
    const ok: Array<[string | number, string]> = [
      ['SIGKILL', 'SIGKILL'],
      ['KILL', 'KILL'],
      ['term', 'TERM'],
      ['sigusr1', 'SIGUSR1'],
      ['RTMIN+3', 'RTMIN+3'],
      [9, '9'],
      [64, '64'],
    ];
    for (const [input, expected] of ok) expect(formatSignal(input)).to.equal(expected);
    for (const bad of [0, 65, 1.5, -9, '', 'SIG KILL', '9; rm', '--all']) expectInvalid(() => formatSignal(bad), 'signal');
  });

  it('formatInterval writes a Go duration', () => {
    expect(formatInterval(5000)).to.equal('5s');
    expect(formatInterval(250)).to.equal('250ms');
    expect(formatInterval(1500)).to.equal('1500ms');
    for (const bad of [0, -1, 1.5, Number.NaN]) expectInvalid(() => formatInterval(bad), 'interval');
  });

  it('create, run, exec: per-call flags in runc order, id last', () => {
    const cases: Array<[string[], string[]]> = [
      [createArgs('c1', '/b', {}, '/s/pid'), ['create', '--bundle', '/b', '--pid-file', '/s/pid', 'c1']],
      [
        createArgs('c1', '/b', { noPivot: true, noNewKeyring: true, consoleSocket: '/s/console.sock' }, '/p'),
        ['create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s/console.sock', '--no-pivot', '--no-new-keyring', 'c1'],
      ],
      [runArgs('r1', '/b', {}), ['run', '--bundle', '/b', 'r1']],
      [runArgs('r1', '/b', { keep: true, noSubreaper: true }), ['run', '--bundle', '/b', '--no-subreaper', '--keep', 'r1']],
      [runArgs('r1', '/b', { detach: true, noPivot: true }, '/p'), ['run', '--bundle', '/b', '--detach', '--pid-file', '/p', '--no-pivot', 'r1']],
      [execArgs('c1', '/s/process.json', {}, '/s/pid'), ['exec', '--process', '/s/process.json', '--pid-file', '/s/pid', 'c1']],
      [
        execArgs('c1', '/s/p.json', { detach: true, ignorePaused: true }, '/s/pid'),
        ['exec', '--process', '/s/p.json', '--pid-file', '/s/pid', '--detach', '--ignore-paused', 'c1'],
      ],
      [
        execArgs('c1', '/s/p.json', { detach: true, tty: true, consoleSocket: '/s/c.sock' }, '/s/pid'),
        ['exec', '--process', '/s/p.json', '--pid-file', '/s/pid', '--detach', '--console-socket', '/s/c.sock', 'c1'],
      ],
    ];
    for (const [actual, expected] of cases) expect(actual).to.deep.equal(expected);
  });

  it('create, run, exec reject bad input before anything runs', () => {
    expectInvalid(() => createArgs('a/b', '/b', {}, '/p'), 'container id');
    expectInvalid(() => createArgs('c1', '', {}, '/p'), 'bundle');
    expectInvalid(() => createArgs('c1', '/b', { consoleSocket: '' }, '/p'), 'consoleSocket');
    expectInvalid(() => runArgs('r1', '/b', { detach: true, keep: true }), 'keep');
    expectInvalid(() => execArgs('c1', '/p.json', { detach: true, tty: true }, '/pid'), 'consoleSocket');
    expectInvalid(() => execArgs('c1', '', {}, '/pid'), 'processFile');
  });

  it('kill, delete, events, update and the id-only verbs', () => {
    const cases: Array<[string[], string[]]> = [
      [killArgs('c1', 'KILL'), ['kill', 'c1', 'KILL']],
      [killArgs('c1', 15, { all: true }), ['kill', '--all', 'c1', '15']],
      [deleteArgs('c1'), ['delete', 'c1']],
      [deleteArgs('c1', { force: true }), ['delete', '--force', 'c1']],
      [eventsArgs('c1', {}), ['events', 'c1']],
      [eventsArgs('c1', { interval: 200 }), ['events', '--interval', '200ms', 'c1']],
      [eventsArgs('c1', { stats: true, interval: 200 }), ['events', '--stats', 'c1']],
      [updateArgs('c1'), ['update', '--resources', '-', 'c1']],
      [idArgs('start', 'c1'), ['start', 'c1']],
      [idArgs('state', 'c1'), ['state', 'c1']],
      [idArgs('pause', 'c1'), ['pause', 'c1']],
      [idArgs('resume', 'c1'), ['resume', 'c1']],
      [idArgs('ps', 'c1'), ['ps', '--format', 'json', 'c1']],
    ];
    for (const [actual, expected] of cases) expect(actual).to.deep.equal(expected);
    expectInvalid(() => killArgs('c1', 'NOPE NOPE'), 'signal');
    expectInvalid(() => deleteArgs(''), 'container id');
  });

  it('checkpoint and restore: criu flags', () => {
    expect(checkpointArgs('c1', '/img')).to.deep.equal(['checkpoint', '--image-path', '/img', 'c1']);
    expect(
      checkpointArgs('c1', '/img', {
        workPath: '/work',
        tcpEstablished: true,
        extUnixSk: true,
        shellJob: true,
        fileLocks: true,
        manageCgroupsMode: 'full',
        emptyNamespaces: ['network'],
        autoDedup: true,
        parentPath: '../pre',
        leaveRunning: true,
        preDump: true,
      }),
    ).to.deep.equal([
      'checkpoint',
      '--image-path',
      '/img',
      '--work-path',
      '/work',
      '--tcp-established',
      '--ext-unix-sk',
      '--shell-job',
      '--file-locks',
      '--manage-cgroups-mode',
      'full',
      '--empty-ns',
      'network',
      '--auto-dedup',
      '--parent-path',
      '../pre',
      '--leave-running',
      '--pre-dump',
      'c1',
    ]);
    expect(restoreArgs('r1', '/b', '/img', {})).to.deep.equal(['restore', '--bundle', '/b', '--image-path', '/img', 'r1']);
    expect(restoreArgs('r1', '/b', '/img', { detach: true, noSubreaper: true, noPivot: true }, '/pid')).to.deep.equal([
      'restore',
      '--bundle',
      '/b',
      '--image-path',
      '/img',
      '--detach',
      '--pid-file',
      '/pid',
      '--no-subreaper',
      '--no-pivot',
      'r1',
    ]);
    expectInvalid(() => checkpointArgs('c1', ''), 'imagePath');
    expectInvalid(() => checkpointArgs('c1', '/img', { manageCgroupsMode: 'loose' as 'soft' }), 'manageCgroupsMode');
    expectInvalid(() => restoreArgs('r1', '/b', '/img', { emptyNamespaces: [''] }), 'emptyNamespaces');
  });
});
