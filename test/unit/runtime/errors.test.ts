import { expect } from 'chai';
import { AlreadyExistsError, ContainerkitError, FailedPreconditionError, InternalError, NotFoundError, newError } from '../../../lib/errors/index.js';
import { criuErrorLines } from '../../../lib/runtime/criu.js';
import { classifyRuncMessage, lastRuncError, parseRuncLog, RuncError, runcFailure } from '../../../lib/runtime/errors.js';

// runc 1.1.5's JSON log lines, as captured on this machine (see test/unit/runtime/captured.ts for outputs).
const LOG = [
  '{"level":"error","msg":"container still running","time":"2026-11-28T03:17:51Z"}',
  '{"level":"error","msg":"criu failed: type DUMP errno 0\\nlog file: /tmp/rx/ckw2/dump.log","time":"2026-11-28T03:17:51Z"}',
  '',
].join('\n');

describe('runtime/errors', () => {
  it('parseRuncLog reads JSON lines and skips text and torn lines', () => {
    const text = [
      '{"level":"debug","msg":"nsexec-0[1]: => nsexec container setup","time":"2026-11-28T03:17:51Z"}',
      'time="2026-11-28T03:17:51Z" level=error msg="a text-format line"',
      '{"level":"warning","msg":"half',
      '{"level":"error","msg":"container does not exist","time":"2026-11-28T03:18:00Z"}',
    ].join('\n');
    expect(parseRuncLog(text)).to.deep.equal([
      { level: 'debug', msg: 'nsexec-0[1]: => nsexec container setup', time: '2026-11-28T03:17:51Z' },
      { level: 'error', msg: 'container does not exist', time: '2026-11-28T03:18:00Z' },
    ]);
  });

  it('lastRuncError takes the last error-level message (the one runc exits on)', () => {
    expect(lastRuncError(LOG)).to.equal('criu failed: type DUMP errno 0\nlog file: /tmp/rx/ckw2/dump.log');
    expect(lastRuncError('{"level":"warning","msg":"w"}\n{"level":"info","msg":"i"}\n')).to.equal(undefined);
    expect(lastRuncError('{"level":"fatal","msg":"f"}\n')).to.equal('f');
    expect(lastRuncError('')).to.equal(undefined);
  });

  it('classifyRuncMessage maps the messages runc 1.1 prints to codes', () => {
    const cases: Array<[string | undefined, string]> = [
      ['container does not exist', 'ERR_RUNC_CONTAINER_NOT_FOUND'],
      ['runc create failed: container with given ID already exists', 'ERR_RUNC_CONTAINER_EXISTS'],
      ['container with id exists: c1', 'ERR_RUNC_CONTAINER_EXISTS'],
      ['cannot start an already running container', 'ERR_RUNC_CONTAINER_STATE'],
      ['cannot start a container that has stopped', 'ERR_RUNC_CONTAINER_STATE'],
      ['container not paused', 'ERR_RUNC_CONTAINER_STATE'],
      ['container not running', 'ERR_RUNC_CONTAINER_STATE'],
      ['container with id c1 is not running', 'ERR_RUNC_CONTAINER_STATE'],
      ['cannot delete container c1 that is not stopped: running', 'ERR_RUNC_CONTAINER_STATE'],
      ['exec failed: cannot exec in a stopped container', 'ERR_RUNC_CONTAINER_STATE'],
      ['exec failed: cannot exec in a paused container (use --ignore-paused to override)', 'ERR_RUNC_CONTAINER_STATE'],
      ['CRIU version check failed: fork/exec /nonexistent/criu: no such file or directory', 'ERR_CRIU_MISSING'],
      ['criu failed: type DUMP errno 0\nlog file: dump.log', 'ERR_CRIU_FAILED'],
      ['runc run failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 'ERR_RUNC_FAILED'],
      [
        'runc run failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted',
        'ERR_RUNC_FAILED',
      ],
      [undefined, 'ERR_RUNC_FAILED'],
    ];
    for (const [message, code] of cases) expect(classifyRuncMessage(message), String(message)).to.equal(code);
  });

  it('runcFailure keeps runc message, argv, exit code and a stderr tail', () => {
    const argv = ['runc', '--root', '/r', 'run', '--bundle', '/b', 'x'];
    const stderr = `${'noise\n'.repeat(2000)}runc run failed: unable to start container process: exec: "nosuch": executable file not found in $PATH\n`;
    const err = runcFailure({
      argv,
      what: 'runc run x',
      exitCode: 1,
      signal: null,
      logText:
        '{"level":"error","msg":"runc run failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH","time":"t"}\n',
      stderr,
    });
    expect(err).to.be.instanceOf(RuncError);
    expect(err).to.be.instanceOf(ContainerkitError);
    expect(err).to.be.instanceOf(InternalError);
    expect(err.code).to.equal('ERR_RUNC_FAILED');
    expect(err.message).to.equal('runc run x: runc run failed: unable to start container process: exec: "nosuch": executable file not found in $PATH');
    expect(err.details.argv).to.deep.equal(argv);
    expect(err.details.exitCode).to.equal(1);
    expect(err.details.signal).to.equal(null);
    expect(err.details.runcMessage).to.include('exec: "nosuch": executable file not found in $PATH');
    expect(err.details.stderr.length).to.equal(4096);
    expect(err.details.stderr.endsWith('$PATH\n')).to.equal(true);
  });

  it('runcFailure classifies into category classes, and falls back to stderr or the signal', () => {
    const base = { argv: ['runc'], what: 'runc state c1', exitCode: 1, signal: null, stderr: '' };
    const notFound = runcFailure({ ...base, logText: '{"level":"error","msg":"container does not exist"}\n' });
    expect(notFound).to.be.instanceOf(NotFoundError);
    expect(notFound.message).to.equal('runc state c1: container does not exist');
    const exists = runcFailure({ ...base, logText: '{"level":"error","msg":"runc create failed: container with given ID already exists"}\n' });
    expect(exists).to.be.instanceOf(AlreadyExistsError);
    const state = runcFailure({ ...base, logText: '{"level":"error","msg":"container not paused"}\n' });
    expect(state).to.be.instanceOf(FailedPreconditionError);
    expect(state.code).to.equal('ERR_RUNC_CONTAINER_STATE');

    const textLog = runcFailure({ ...base, logText: '', stderr: 'time="x" level=error msg="y"\ncontainer does not exist\n' });
    expect(textLog.code).to.equal('ERR_RUNC_CONTAINER_NOT_FOUND');
    expect(textLog.message).to.equal('runc state c1: exited with code 1: container does not exist');
    expect(textLog.details).not.to.have.property('runcMessage');

    const killed = runcFailure({ ...base, exitCode: null, signal: 'SIGKILL', logText: '' });
    expect(killed.message).to.equal('runc state c1: runc was killed by SIGKILL');
    expect(killed.code).to.equal('ERR_RUNC_FAILED');
  });

  it('instanceof RuncError is true only for runc errors', () => {
    expect(newError('ERR_RUNC_FAILED', 'x')).not.to.be.instanceOf(RuncError);
    expect(new Error('x')).not.to.be.instanceOf(RuncError);
    expect(null).not.to.be.instanceOf(RuncError);
  });

  it('criuErrorLines picks the Error lines of a criu log without their timestamps', () => {
    const log = [
      '(00.017287) Found task size of 7ffffffff000',
      '(00.033264) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
      '(00.033266) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
      '(00.033267) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
      '(00.033299) Adjust mmap_min_addr 0x1000 -> 0x10000',
    ].join('\n');
    expect(criuErrorLines(log)).to.deep.equal([
      'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
      'Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
      'Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
    ]);
    expect(criuErrorLines('')).to.deep.equal([]);
  });
});
