// OCIRuntime against a fake runtime binary (a shell script with runc's CLI shape), as go-runc tests point its
// command at /bin/true: fast, no root, and every byte of argv, env and stdin it got can be checked.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { hasCode, NotFoundError } from '../../../lib/errors/index.js';
import { RuncError } from '../../../lib/runtime/errors.js';
import { OCIRuntime } from '../../../lib/runtime/oci-runtime.js';
import { withoutExitTime } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

// Records argv (one per line), env and stdin into $FAKE_DIR, then acts per verb.
const FAKE = `#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_DIR/argv"
env > "$FAKE_DIR/env"
log=/dev/null
while [ $# -gt 0 ]; do
  case "$1" in
    --log) log="$2"; shift 2 ;;
    --log-format|--root|--criu) shift 2 ;;
    --*) shift ;;
    *) break ;;
  esac
done
verb="$1"
case "$verb" in
  state) printf '{"level":"error","msg":"container does not exist","time":"t"}\\n' >> "$log"; echo 'container does not exist' >&2; exit 1 ;;
  list) echo null ;;
  update) cat > "$FAKE_DIR/stdin" ;;
  pause) exec sleep 10 ;;
  run) echo "out:$FAKE_EXIT"; echo "err" >&2; exit "$FAKE_EXIT" ;;
  events) echo '{"type":"oom","id":"c1"}'; echo 'garbage'; exec sleep 10 ;;
  *) exit 0 ;;
esac
`;

describe('runtime/OCIRuntime (fake binary)', () => {
  let dir: string;
  let binary: string;
  const runtime = (extra: Record<string, unknown> = {}, env: Record<string, string> = {}): OCIRuntime =>
    new OCIRuntime({ binary, root: join(dir, 'root'), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FAKE_DIR: dir, ...env }, ...extra });
  const argv = async (): Promise<string[]> => (await readFile(join(dir, 'argv'), 'utf8')).trimEnd().split('\n');

  beforeEach(async () => {
    dir = await makeTempDir('fake-runc');
    binary = join(dir, 'fake-runc');
    await writeFile(binary, FAKE, { mode: 0o755 });
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it("a failure carries runc's logged message, argv and exit code, and the private log is removed", async () => {
    let thrown: unknown;
    try {
      await runtime().state('c1');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(RuncError);
    expect(thrown).to.be.instanceOf(NotFoundError);
    const err = thrown as RuncError;
    expect(err.code).to.equal('ERR_RUNC_CONTAINER_NOT_FOUND');
    expect(err.message).to.equal('runc state c1: container does not exist');
    expect(err.details.runcMessage).to.equal('container does not exist');
    expect(err.details.exitCode).to.equal(1);
    expect(err.details.stderr).to.equal('container does not exist\n');
    const args = await argv();
    expect(err.details.argv).to.deep.equal([binary, ...args]);
    expect(args.slice(0, 1)).to.deep.equal(['--log']);
    expect(args.slice(2)).to.deep.equal(['--log-format', 'json', '--root', join(dir, 'root'), 'state', 'c1']);
    expect(existsSync(args[1]!), 'private log left behind').to.equal(false);
  });

  it('with a shared log, only the lines this call appended count', async () => {
    const log = join(dir, 'shared.log');
    await writeFile(log, '{"level":"error","msg":"an older failure","time":"t"}\n');
    const err = (await runtime({ log })
      .state('c1')
      .catch((e: unknown) => e)) as RuncError;
    expect(err.details.runcMessage).to.equal('container does not exist');
    expect((await argv()).slice(0, 4)).to.deep.equal(['--log', log, '--log-format', 'json']);
    expect(existsSync(log)).to.equal(true);
  });

  it('NOTIFY_SOCKET never reaches runc', async () => {
    await runtime({}, { NOTIFY_SOCKET: '/run/systemd/notify', KEEP_ME: 'yes' }).list();
    const env = await readFile(join(dir, 'env'), 'utf8');
    expect(env).to.include('KEEP_ME=yes');
    expect(env).not.to.include('NOTIFY_SOCKET');
  });

  it('update sends the resources as JSON on stdin', async () => {
    await runtime().update('c1', { memory: { limit: 33554432 }, pids: { limit: 10 } });
    expect(JSON.parse(await readFile(join(dir, 'stdin'), 'utf8'))).to.deep.equal({ memory: { limit: 33554432 }, pids: { limit: 10 } });
    expect((await argv()).slice(-4)).to.deep.equal(['update', '--resources', '-', 'c1']);
  });

  it('cancel kills runc and rejects with signal.reason; an aborted signal runs nothing', async () => {
    const reason = new Error('stop now');
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(reason), 100);
    const err = await runtime()
      .pause('c1', { signal: controller.signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.equal(reason);
    expect(Date.now() - started).to.be.lessThan(3000);

    await removeTempDir(dir);
    dir = await makeTempDir('fake-runc');
    await writeFile((binary = join(dir, 'fake-runc')), FAKE, { mode: 0o755 });
    const aborted = AbortSignal.abort(reason);
    expect(
      await runtime()
        .start('c1', { signal: aborted })
        .catch((e: unknown) => e),
    ).to.equal(reason);
    expect(existsSync(join(dir, 'argv')), 'runc was started').to.equal(false);
  });

  it("foreground run: a non-zero exit without a logged error is the process's status", async () => {
    const result = await runtime({}, { FAKE_EXIT: '3' }).run('r1', '/bundle');
    expect(withoutExitTime(result)).to.deep.equal({ code: 3, stdout: 'out:3\n', stderr: 'err\n' });
    expect((await argv()).slice(-4)).to.deep.equal(['run', '--bundle', '/bundle', 'r1']);
  });

  it('bad arguments are rejected before runc runs', async () => {
    const cases: Array<() => Promise<unknown>> = [
      () => runtime().state('../etc'),
      () => runtime().kill('c1', 'NOT A SIGNAL'),
      () => runtime().run('r1', ''),
      () => runtime().run('r1', '/b', { detach: true, input: 'x' } as never),
      () => runtime().exec('c1', { args: [], cwd: '/', user: { uid: 0, gid: 0 } }),
      () => runtime().update('c1', null as never),
      () => runtime().checkpoint('c1', ''),
    ];
    for (const call of cases) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasCode(err, 'ERR_INVALID_ARGUMENT'), String(err)).to.equal(true);
    }
    expect(() => runtime().events('c1', { interval: -5 }))
      .to.throw()
      .with.property('code', 'ERR_INVALID_ARGUMENT');
    expect(existsSync(join(dir, 'argv'))).to.equal(false);
  });

  it('events: decoded lazily, a bad line is an error event, leaving the loop stops runc', async () => {
    const types: string[] = [];
    const started = Date.now();
    for await (const event of runtime().events('c1', { interval: 1000 })) {
      types.push(event.type);
      if (types.length === 2) break;
    }
    expect(types).to.deep.equal(['oom', 'error']);
    expect(Date.now() - started).to.be.lessThan(3000);
    expect((await argv()).slice(-4)).to.deep.equal(['events', '--interval', '1s', 'c1']);
  });

  it('a missing binary is ERR_TOOL_MISSING', async () => {
    const err = await new OCIRuntime({ binary: join(dir, 'no-such-runc') }).list().catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_TOOL_MISSING')).to.equal(true);
    expect((err as Error).message).to.include('no-such-runc');
  });

  it('checkpoint without criu is ERR_CRIU_MISSING, before runc runs', async () => {
    const err = await runtime({ criu: join(dir, 'no-criu') })
      .checkpoint('c1', join(dir, 'img'))
      .catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_CRIU_MISSING')).to.equal(true);
    expect(existsSync(join(dir, 'argv'))).to.equal(false);
  });
});
