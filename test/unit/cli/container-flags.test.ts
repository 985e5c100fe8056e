// The container verbs' command-line parsing: docker's option placement, flags as Engine options, times, filters.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseFilters } from '../../../lib/cli/commands/ps.js';
import { CREATE_FLAGS, createOptionsOf } from '../../../lib/cli/container-flags.js';
import { parseLeadingOptions } from '../../../lib/cli/interspersed.js';
import { parseTimeFlag, sinceText } from '../../../lib/cli/time-text.js';
import { codedRejection } from '../../fixtures/assert.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

const RUN = { ...CREATE_FLAGS, detach: { type: 'boolean', short: 'd' } } as const;

describe('cli: container flags', () => {
  it('options end at the image: the command keeps its own flags; short groups and inline values as docker', () => {
    const p = parseLeadingOptions(['-dit', '--rm', '-eA=1', '-e', 'B', '--name=web', '-v', '/a:/b', 'busybox', 'ls', '-l', '--rm'], RUN, 1);
    expect(p.positionals).to.deep.equal(['busybox']);
    expect(p.rest).to.deep.equal(['ls', '-l', '--rm']);
    expect(p.values).to.deep.include({ detach: true, interactive: true, tty: true, rm: true, name: 'web' });
    expect(p.values['env']).to.deep.equal(['A=1', 'B']);
    expect(p.values['volume']).to.deep.equal(['/a:/b']);
    const dashed = parseLeadingOptions(['--', 'img', '-x'], RUN, 1);
    expect(dashed).to.deep.include({ positionals: ['img'], rest: ['-x'] });
    expect(() => parseLeadingOptions(['--nope', 'img'], RUN, 1))
      .to.throw()
      .with.property('code', 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
  });

  it('docker flags become the Engine create options; -e KEY and env files read the CLI environment', async () => {
    const dir = await makeTempDir('cli-flags');
    try {
      const envFile = join(dir, 'env');
      await writeFile(envFile, '# comment\n\nFROM_FILE=1\nHOMEVAR\n');
      const p = parseLeadingOptions(
        [
          '--env-file',
          envFile,
          '-e',
          'X=1',
          '-e',
          'FROM_ENV',
          '-l',
          'a=b',
          '--label',
          'flag',
          '--mount',
          'type=tmpfs,dst=/t',
          '--tmpfs',
          '/run:size=1m,mode=700',
          '--memory',
          '64m',
          '--cpus',
          '0.5',
          '--pids-limit',
          '20',
          '--network',
          'host',
          '--read-only',
          '--cap-add',
          'NET_ADMIN',
          '--cap-drop',
          'ALL',
          '--privileged',
          '--init',
          '-u',
          '1000:1000',
          '-w',
          '/srv',
          '--entrypoint',
          '',
          '--stop-signal',
          'SIGINT',
          '--stop-timeout',
          '3',
          '--pull',
          'never',
          '--hostname',
          'h1',
          'img',
          'a',
          'b',
        ],
        RUN,
        1,
      );
      const o = await createOptionsOf(p.values, p.rest, { FROM_ENV: 'e', HOMEVAR: 'h' });
      expect(o).to.deep.equal({
        cmd: ['a', 'b'],
        entrypoint: [],
        env: ['FROM_FILE=1', 'HOMEVAR=h', 'X=1', 'FROM_ENV=e'],
        mounts: [
          { type: 'tmpfs', target: '/t', readonly: false },
          { type: 'tmpfs', target: '/run', size: 1024 * 1024, mode: 0o700 },
        ],
        network: 'host',
        pull: 'never',
        hostname: 'h1',
        user: '1000:1000',
        workdir: '/srv',
        stopSignal: 'SIGINT',
        stopTimeout: 3,
        labels: { a: 'b', flag: '' },
        resources: { memory: 64 * 1024 * 1024, cpus: 0.5, pidsLimit: 20 },
        capAdd: ['NET_ADMIN'],
        capDrop: ['ALL'],
        init: true,
        privileged: true,
        readonlyRootfs: true,
      });
    } finally {
      await removeTempDir(dir);
    }
  });

  it('bad values are usage errors naming the flag', async () => {
    for (const [flag, value] of [
      ['--network', 'bridge'],
      ['--pull', 'sometimes'],
      ['--memory', 'lots'],
      ['--cpus', 'x'],
      ['--pids-limit', '1.5'],
      ['--tmpfs', 'rel'],
    ]) {
      const p = parseLeadingOptions([flag!, value!, 'img'], RUN, 1);
      const err = await codedRejection(createOptionsOf(p.values, [], {}));
      expect(err.code, flag).to.equal('ERR_INVALID_ARGUMENT');
      expect(err.message, flag).to.include(flag!);
    }
  });

  it('times as docker takes them, and docker\'s "ago" texts', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(parseTimeFlag('10m', '--since', now).toISOString()).to.equal('2026-12-05T09:50:00.000Z');
    expect(parseTimeFlag('1h30m', '--since', now).toISOString()).to.equal('2026-12-05T08:30:00.000Z');
    expect(parseTimeFlag('1700000000', '--since', now).getTime()).to.equal(1_700_000_000_000);
    expect(parseTimeFlag('2026-12-01T00:00:00Z', '--since', now).toISOString()).to.equal('2026-12-01T00:00:00.000Z');
    expect(() => parseTimeFlag('yesterday', '--since', now)).to.throw(/--since/);
    expect(sinceText(now - 400, now)).to.equal('Less than a second ago');
    expect(sinceText(now - 3000, now)).to.equal('3 seconds ago');
    expect(sinceText(now - 60_000, now)).to.equal('About a minute ago');
    expect(sinceText(now - 7_200_000, now)).to.equal('2 hours ago');
  });

  it('ps filters: docker keys, repeated keys, unknown ones refused', () => {
    expect(parseFilters(['label=a=b', 'label=c', 'status=exited', 'name=web', 'ancestor=busybox'])).to.deep.equal({
      label: ['a=b', 'c'],
      status: ['exited'],
      name: ['web'],
      ancestor: ['busybox'],
    });
    expect(() => parseFilters(['colour=red'])).to.throw(/invalid filter/);
    expect(() => parseFilters(['status=sleeping'])).to.throw(/status is one of/);
  });
});
