// The container verbs of `containerkit` as a docker user runs them: each call a new process (bin/containerkit over
// the sources) on one root, with real shims and a busybox image from a real registry.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { mountsUnder, unmount } from '../../../lib/util/mount.js';
import { type CliProcess, spawnCli } from '../../fixtures/cli-process.js';
import { useRegistryWithImages } from '../../fixtures/images.js';
import { trackChild, trackCleanup } from '../../fixtures/safety-net.js';
import { findShimPids, isAlive, killAll, processTree } from '../../fixtures/shims.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const REPO = join(import.meta.dirname, '..', '..', '..');

interface Done {
  code: number | null;
  out: string;
  err: string;
}

async function finished(p: CliProcess): Promise<Done> {
  const { code } = await p.exited;
  return { code, out: p.out, err: p.err };
}

describe('cli: container verbs (real shims, real registry)', function () {
  this.timeout(240_000);
  const served = useRegistryWithImages();
  let root: string;
  let untrack: (() => void) | undefined;

  const image = (): string => served.images.busybox.reference;
  const start = (...argv: string[]): CliProcess => spawnCli(['--root', root, ...argv], { DOCKER_CONFIG: root });
  const ck = (...argv: string[]): Promise<Done> => finished(start(...argv));
  const killEverything = (): void => killAll(processTree(findShimPids(join(root, 'events.sock'))));

  before(async () => {
    root = await makeTempDir('cli-containers');
    untrack = trackCleanup(killEverything);
    const pull = await ck('pull', '-q', image());
    expect(pull.code, pull.err).to.equal(0);
  });
  after(async () => {
    killEverything();
    for (const point of await mountsUnder(root)) await unmount(point).catch(() => undefined);
    await removeTempDir(root);
    untrack?.();
  });

  /** What containers leave behind: container dirs, live shims, mounts. */
  async function leftovers(): Promise<string[]> {
    const out: string[] = [];
    const dir = join(root, 'containers');
    if (existsSync(dir)) out.push(...readdirSync(dir).map((d) => `container dir ${d}`));
    for (const pid of processTree(findShimPids(join(root, 'events.sock')))) if (isAlive(pid)) out.push(`process ${pid}`);
    for (const point of await mountsUnder(root)) out.push(`mount ${point}`);
    return out;
  }

  it("run --rm: the exit code is the CLI's, stdout and stderr apart, nothing left", async () => {
    const run = await ck('run', '--rm', image(), 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(run, run.err).to.deep.include({ code: 3, out: 'out\n', err: 'err\n' });
    expect((await ck('ps', '-a', '-q')).out).to.equal('');
    expect(await leftovers()).to.deep.equal([]);
  });

  it('run exits 127 for a command not found and 125 for an engine error, as docker', async () => {
    const missing = await ck('run', '--rm', image(), 'no-such-command');
    expect(missing.code, missing.err).to.equal(127);
    expect(missing.err).to.match(/^containerkit: .*no-such-command.*\(ERR_[A-Z_]+\)\n$/);
    const bad = await ck('run', '--rm', '--network', 'bridge', image(), 'true');
    expect(bad.code).to.equal(125);
    expect(bad.err).to.match(/--network.*\(ERR_INVALID_ARGUMENT\)/);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('run -d, ps (columns, -q, --filter, --format json), logs --tail, exec, stop -t, inspect, rm -f', async () => {
    const script = 'trap "" TERM; echo one; echo two; while :; do sleep 1; done';
    const run = await ck('run', '-d', '--name', 'web', '--label', 'app=web', image(), 'sh', '-c', script);
    expect(run.code, run.err).to.equal(0);
    expect(run.out).to.match(/^[0-9a-f]{64}\n$/);
    const id = run.out.trim();

    const ps = await ck('ps');
    const [header, row, ...more] = ps.out.split('\n');
    expect(header).to.match(/^CONTAINER ID {3,}IMAGE {3,}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {3,}NAMES$/);
    expect(more).to.deep.equal(['']);
    expect(row!.slice(0, 12)).to.equal(id.slice(0, 12));
    expect(row).to.match(/ {3}"sh -c trap \\"\\" TERM;…" +(Less than a second|\d+ seconds?) ago +Up [^ ].* +web$/);
    expect(row!.indexOf(' Up ') + 1).to.equal(header!.indexOf('STATUS'));
    expect(row!.indexOf(' web') + 1).to.equal(header!.indexOf('NAMES'));
    expect((await ck('ps', '-q')).out).to.equal(`${id.slice(0, 12)}\n`);
    expect((await ck('ps', '-q', '--no-trunc')).out).to.equal(`${id}\n`);
    expect((await ck('ps', '-q', '--filter', 'label=app=web')).out).to.equal(`${id.slice(0, 12)}\n`);
    expect((await ck('ps', '-q', '--filter', 'name=nosuch')).out).to.equal('');
    expect((await ck('ps', '--filter', 'colour=red')).code).to.equal(2);
    const json = JSON.parse((await ck('ps', '--format', 'json')).out) as Record<string, string>;
    expect(json).to.include({ ID: id.slice(0, 12), Names: 'web', State: 'running', Labels: 'app=web', Ports: '' });
    expect(json['Status']).to.match(/^Up /);

    const until = Date.now() + 10_000;
    while (!(await ck('logs', 'web')).out.includes('two\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const tail = await ck('logs', '--tail', '1', 'web');
    expect(tail).to.deep.include({ code: 0, out: 'two\n', err: '' });

    const exec = await ck('exec', 'web', 'sh', '-c', 'echo hi; echo oops >&2; exit 7');
    expect(exec).to.deep.include({ code: 7, out: 'hi\n', err: 'oops\n' });
    const env = await ck('exec', '-e', 'A=1', '-w', '/tmp', 'web', 'sh', '-c', 'echo $A $PWD');
    expect(env).to.deep.include({ code: 0, out: '1 /tmp\n' });

    const began = Date.now();
    const stop = await ck('stop', '-t', '1', 'web');
    expect(stop, stop.err).to.deep.include({ code: 0, out: 'web\n' });
    expect(Date.now() - began).to.be.within(1000, 9000);
    const exited = await ck('ps', '-a');
    expect(exited.out.split('\n')[1]).to.match(/ Exited \(137\) (Less than a second|\d+ seconds?) ago +web$/);

    const inspect = await ck('inspect', 'web');
    expect(inspect.code, inspect.err).to.equal(0);
    const [doc, ...others] = JSON.parse(inspect.out) as Array<{
      Id: string;
      Name: string;
      State: { Status: string; ExitCode: number };
      Config: { Labels: Record<string, string> };
    }>;
    expect(others).to.deep.equal([]);
    expect(doc).to.deep.include({ Id: id, Name: '/web' });
    expect(doc!.State).to.include({ Status: 'exited', ExitCode: 137 });
    expect(doc!.Config.Labels).to.include({ app: 'web' });
    const both = await ck('inspect', 'nosuch', image());
    expect(both.code).to.equal(1);
    expect(both.err).to.equal('Error: No such object: nosuch\n');
    expect((JSON.parse(both.out) as Array<{ RepoTags: string[] }>).map((d) => d.RepoTags.length)).to.deep.equal([1]);

    const rmMissing = await ck('rm', 'nosuch', 'web');
    expect(rmMissing.code).to.equal(1);
    expect(rmMissing.out).to.equal('web\n');
    expect(rmMissing.err).to.match(/nosuch.*\(ERR_NO_SUCH_CONTAINER\)/);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('rm -f removes a running container; rmi refuses an image a container uses unless -f', async () => {
    const created = await ck('create', '--name', 'user', image(), 'sleep', '60');
    expect(created.code, created.err).to.equal(0);
    expect(created.out).to.match(/^[0-9a-f]{64}\n$/);
    expect((await ck('start', 'user')).out).to.equal('user\n');
    const refused = await ck('rmi', image());
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(/\(ERR_IMAGE_IN_USE\)\n$/);
    const rm = await ck('rm', 'user');
    expect(rm.code).to.equal(1);
    expect(rm.err).to.match(/\(ERR_FAILED_PRECONDITION\)/);
    // -f removes the name; the container keeps its snapshot and runs on.
    const forced = await ck('rmi', '-f', image());
    expect(forced, forced.err).to.deep.include({ code: 0 });
    expect(forced.out.split('\n')[0]).to.equal(`Untagged: ${image()}`);
    expect((await ck('ps', '-q')).out).to.match(/^[0-9a-f]{12}\n$/);
    expect((await ck('rm', '-f', 'user')).out).to.equal('user\n');
    expect(await leftovers()).to.deep.equal([]);
    expect((await ck('pull', '-q', image())).code).to.equal(0);
  });

  it('two concurrent run --name x: one wins, the other exits 125 with a clear error', async () => {
    const [a, b] = await Promise.all([ck('run', '--rm', '--name', 'dup', image(), 'sleep', '2'), ck('run', '--rm', '--name', 'dup', image(), 'sleep', '2')]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.err}\n${b.err}`).to.deep.equal([0, 125]);
    const loser = a.code === 125 ? a : b;
    expect(loser.err).to.match(/name "?\/?dup"? is already in use.*\(ERR_NAME_IN_USE\)\n$/);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('SIGINT to an attached run goes to the container', async () => {
    const run = start('run', '--rm', image(), 'sh', '-c', 'trap "echo got INT; exit 42" INT; echo ready; while :; do sleep 0.1; done');
    await run.waitFor('out', /ready\n/);
    // ps, inspect and logs need no backend: they work while the attached run holds the root.
    const ps = await ck('ps', '--format', 'json');
    expect(ps.code, ps.err).to.equal(0);
    const row = JSON.parse(ps.out) as { ID: string; State: string };
    expect(row.State).to.equal('running');
    expect((await ck('logs', row.ID)).out).to.equal('ready\n');
    expect((JSON.parse((await ck('inspect', row.ID)).out) as Array<{ State: { Running: boolean } }>)[0]!.State.Running).to.equal(true);
    const events = await ck('events', '--since', '30s', '--until', new Date().toISOString());
    expect(events.code, events.err).to.equal(0);
    expect(events.out).to.match(new RegExp(`Z container start ${row.ID}[0-9a-f]{52} \\(`));
    run.child.kill('SIGINT');
    const done = await finished(run);
    expect(done.code, done.err).to.equal(42);
    expect(done.out).to.equal('ready\ngot INT\n');
    expect(await leftovers()).to.deep.equal([]);
  });

  it('-i without -t is refused before anything is made (the log has no stdin)', async () => {
    const run = await ck('run', '--rm', '-i', image(), 'cat');
    expect(run.code).to.equal(125);
    expect(run.err).to.match(/run -i needs -t.*\(ERR_INVALID_ARGUMENT\)\n$/);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('-it through a pseudo-terminal: raw mode while it runs, the terminal size, the exit code, the terminal restored', async () => {
    const dir = await makeTempDir('cli-tty');
    try {
      const bin = `node --import tsx ${join(REPO, 'test', 'fixtures', 'cli-bin.ts')} --root ${root}`;
      // stdin from /dev/tty: a background job of a non-interactive shell would otherwise read /dev/null.
      const shell = [
        'stty rows 33 cols 77',
        `${bin} run --rm -it ${image()} sh -c 'sleep 1; stty size; read line; echo "got $line"; exit 5' </dev/tty & pid=$!`,
        // Wait for the CLI to make the terminal raw (it does once the container started), at most 20 s.
        `for i in $(seq 200); do stty -a | grep -q -- -icanon && break; sleep 0.1; done; stty -a > ${dir}/during`,
        `wait $pid; echo "rc=$?"`,
        `stty -a > ${dir}/after`,
      ].join('; ');
      const script = spawn('script', ['-qec', shell, '/dev/null'], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
      trackChild(script);
      let out = '';
      script.stdout.on('data', (b: Buffer) => (out += b.toString()));
      script.stderr.on('data', (b: Buffer) => (out += b.toString()));
      // Typed into the terminal: the CLI passes it on raw, the container's terminal makes the line.
      const closed = once(script, 'close');
      while (!existsSync(join(dir, 'during'))) await new Promise((r) => setTimeout(r, 50));
      script.stdin.write('hello\r');
      await closed;
      // The container's terminal writes CRLF, passed on as it is (no second CR: output processing is off too).
      expect(out).to.include('33 77\r\n');
      expect(out).to.include('got hello\r\n');
      expect(out).to.match(/rc=5\r\n/);
      const during = await readFile(join(dir, 'during'), 'utf8');
      const after = await readFile(join(dir, 'after'), 'utf8');
      expect(during).to.match(/(^|\s)-icanon(\s|$)/);
      expect(during).to.match(/(^|\s)-echo(\s|$)/);
      expect(after).to.match(/(^|\s)icanon(\s|$)/);
      expect(after).to.match(/(^|\s)echo(\s|$)/);
      expect(during).to.match(/(^|\s)-opost(\s|$)/);
      expect(after).to.match(/(^|\s)opost(\s|$)/);
    } finally {
      await removeTempDir(dir);
    }
    expect(await leftovers()).to.deep.equal([]);
  });

  it('create, start -a, pause/unpause, kill -s, restart, rename, top, stats --no-stream, port, attach', async () => {
    const created = await ck('create', '--name', 'once', image(), 'sh', '-c', 'echo hello; exit 6');
    expect(created.code, created.err).to.equal(0);
    const startA = await ck('start', '-a', 'once');
    expect(startA).to.deep.include({ code: 6, out: 'hello\n' });
    // A second run shows only its own output, not the first run's.
    expect(await ck('start', '-a', 'once')).to.deep.include({ code: 6, out: 'hello\n' });
    expect((await ck('rm', 'once')).out).to.equal('once\n');

    const run = await ck(
      'run',
      '-d',
      '--name',
      'busy',
      '--memory',
      '64m',
      '--pids-limit',
      '50',
      image(),
      'sh',
      '-c',
      'trap "echo usr1" USR1; while :; do sleep 0.2; done',
    );
    expect(run.code, run.err).to.equal(0);
    expect((await ck('pause', 'busy')).out).to.equal('busy\n');
    expect((await ck('ps')).out).to.match(/Up .*\(Paused\) +busy\n$/);
    expect((await ck('pause', 'busy')).code).to.equal(1);
    expect((await ck('unpause', 'busy')).out).to.equal('busy\n');
    expect((await ck('kill', '-s', 'USR1', 'busy')).out).to.equal('busy\n');
    const until = Date.now() + 5000;
    while (!(await ck('logs', 'busy')).out.includes('usr1\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect((await ck('logs', 'busy')).out).to.equal('usr1\n');

    const top = await ck('top', 'busy');
    expect(top.code, top.err).to.equal(0);
    expect(top.out.split('\n')[0]).to.match(/^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    expect(top.out).to.include('sh -c trap');
    const stats = await ck('stats', '--no-stream', 'busy');
    expect(stats.code, stats.err).to.equal(0);
    const [head, line] = stats.out.split('\n');
    expect(head).to.match(/^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS$/);
    expect(line).to.match(/^[0-9a-f]{12} +busy +\d+\.\d\d% +[\d.]+[KMG]?i?B \/ 64MiB +\d+\.\d\d% .* [1-9]\d*$/);
    expect(await ck('port', 'busy')).to.deep.include({ code: 0, out: '' });

    expect((await ck('rename', 'busy', 'renamed')).code).to.equal(0);
    expect((await ck('ps', '--format', 'json')).out).to.include('"Names":"renamed"');
    const restart = await ck('restart', '-t', '0', 'renamed');
    expect(restart, restart.err).to.deep.include({ code: 0, out: 'renamed\n' });
    expect((await ck('ps', '-q', '--filter', 'status=running')).out).to.match(/^[0-9a-f]{12}\n$/);

    expect((await ck('rm', '-f', 'renamed')).out).to.equal('renamed\n');

    // attach: the output from now on, and the exit code once it stops.
    expect((await ck('run', '-d', '--name', 'att', image(), 'sh', '-c', 'echo before; sleep 8; echo after; exit 9')).code).to.equal(0);
    const attached = await ck('attach', 'att');
    expect(attached, attached.err).to.deep.include({ code: 9, out: 'after\n' });
    expect((await ck('rm', 'att')).code).to.equal(0);
    expect(await leftovers()).to.deep.equal([]);
  });

  it('logs -f follows until the container stops; events shows the lifecycle; wait prints the exit code', async () => {
    const since = new Date().toISOString();
    const run = await ck('run', '-d', '--name', 'ticker', image(), 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done; exit 4');
    expect(run.code, run.err).to.equal(0);
    const follow = await ck('logs', '-f', 'ticker');
    expect(follow).to.deep.include({ code: 0, out: 'tick 1\ntick 2\ntick 3\n' });
    expect((await ck('wait', 'ticker')).out).to.equal('4\n');
    const events = await ck('events', '--since', since, '--until', new Date().toISOString());
    expect(events.code, events.err).to.equal(0);
    const actions = events.out
      .split('\n')
      .filter((l) => l.includes(' container '))
      .map((l) => l.split(' ')[2]);
    expect(actions).to.include.members(['create', 'start', 'die']);
    expect((await ck('rm', 'ticker')).code).to.equal(0);
    execFileSync('true');
  });
});
