import { expect } from 'chai';
import { applyCreateDefaults, CREATE_DEFAULTS, type CreateOptions, isSignalName, validateCreateOptions } from '../../../lib/engine/create-options.js';
import { parseByteSize, parseEnvFlag, parseMountFlag, parseVolumeFlag } from '../../../lib/engine/flags.js';
import { hasCode } from '../../../lib/errors/index.js';

/** The option an ERR_INVALID_ARGUMENT names, or a description of what was thrown instead. */
function invalidOption(options: unknown): unknown {
  try {
    validateCreateOptions(options as CreateOptions);
  } catch (err) {
    return hasCode(err, 'ERR_INVALID_ARGUMENT') ? (err.details.option ?? err.message) : err;
  }
  return 'accepted';
}

function flagError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (hasCode(err, 'ERR_INVALID_ARGUMENT')) return `${String(err.details.flag)}: ${err.message}`;
    throw err;
  }
  throw new Error('accepted');
}

describe('engine/create-options: validation', () => {
  it('accepts no options and a full set', () => {
    expect(invalidOption({})).to.equal('accepted');
    expect(
      invalidOption({
        name: 'web-1',
        cmd: ['nginx', '-g', 'daemon off;'],
        entrypoint: [],
        env: ['A=1', 'B', 'C='],
        workdir: '/srv',
        user: 'www:www',
        tty: true,
        stdin: true,
        labels: { a: 'b', empty: '' },
        hostname: 'web.example',
        mounts: [
          { type: 'bind', source: '/srv', target: '/data', readonly: true, propagation: 'rslave' },
          { type: 'tmpfs', target: '/tmp', size: 1024, mode: 0o700 },
        ],
        resources: { memory: 64 << 20, memorySwap: -1, cpus: 0.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100 },
        capAdd: ['NET_ADMIN', 'ALL'],
        capDrop: ['cap_chown'],
        privileged: false,
        readonlyRootfs: true,
        init: true,
        network: 'host',
        stopSignal: 'SIGRTMIN+3',
        stopTimeout: -1,
        autoRemove: true,
        pull: 'never',
        platform: 'linux/arm64/v8',
        noNewPrivileges: true,
        ulimits: [{ type: 'nofile', soft: 100, hard: 200 }],
      } satisfies CreateOptions),
    ).to.equal('accepted');
  });

  it('names the option that is wrong', () => {
    const cases: Array<[unknown, string]> = [
      [{ name: '-bad' }, 'name'],
      [{ name: 'a' }, 'name'],
      [{ cmd: 'sh' }, 'cmd'],
      [{ cmd: ['sh', 1] }, 'cmd[1]'],
      [{ env: ['=x'] }, 'env[0]'],
      [{ workdir: 'srv' }, 'workdir'],
      [{ user: 'a:b:c' }, 'user'],
      [{ user: ':x' }, 'user'],
      [{ tty: 'yes' }, 'tty'],
      [{ labels: ['a'] }, 'labels'],
      [{ labels: { a: 1 } }, 'labels.a'],
      [{ hostname: 'bad_host' }, 'hostname'],
      [{ hostname: 'x'.repeat(64) }, 'hostname'],
      [{ mounts: [{ type: 'volume', target: '/v' }] }, 'mounts[0].type'],
      [{ mounts: [{ type: 'bind', source: 'rel', target: '/x' }] }, 'mounts[0].source'],
      [{ mounts: [{ type: 'tmpfs', target: '/' }] }, 'mounts[0].target'],
      [
        {
          mounts: [
            { type: 'tmpfs', target: '/a' },
            { type: 'tmpfs', target: '/a/' },
          ],
        },
        'mounts[1].target',
      ],
      [{ mounts: [{ type: 'bind', source: '/a', target: '/b', propagation: 'up' }] }, 'mounts[0].propagation'],
      [{ mounts: [{ type: 'tmpfs', target: '/a', mode: 0o10000 }] }, 'mounts[0].mode'],
      [{ resources: { memory: 1024 } }, 'resources.memory'],
      [{ resources: { memorySwap: 1 << 30 } }, 'resources.memorySwap'],
      [{ resources: { memory: 64 << 20, memorySwap: 32 << 20 } }, 'resources.memorySwap'],
      [{ resources: { cpus: 0 } }, 'resources.cpus'],
      [{ resources: { cpus: 10_000 } }, 'resources.cpus'],
      [{ resources: { cpuShares: 1 } }, 'resources.cpuShares'],
      [{ resources: { cpusetCpus: '0-' } }, 'resources.cpusetCpus'],
      [{ resources: { pidsLimit: 0 } }, 'resources.pidsLimit'],
      [{ capAdd: ['CAP_NOPE'] }, 'capAdd'],
      [{ capDrop: 'ALL' }, 'capDrop'],
      [{ network: 'bridge' }, 'network'],
      [{ pull: 'sometimes' }, 'pull'],
      [{ stopSignal: 'SIGNOPE' }, 'stopSignal'],
      [{ stopTimeout: 1.5 }, 'stopTimeout'],
      [{ platform: 'linux/' }, 'platform'],
      [{ ulimits: [{ type: 'nofiles', soft: 1, hard: 1 }] }, 'ulimits[0].type'],
      [{ ulimits: [{ type: 'nofile', soft: 2, hard: 1 }] }, 'ulimits[0]'],
    ];
    for (const [options, option] of cases) expect(invalidOption(options), JSON.stringify(options)).to.equal(option);
    expect(invalidOption(null)).to.equal('options must be an object');
  });

  it('reads signals as docker does', () => {
    for (const s of ['SIGTERM', 'TERM', 'term', '15', 'SIGRTMIN', 'SIGRTMIN+3', 'SIGRTMAX-1', 'KILL']) expect(isSignalName(s), s).to.equal(true);
    for (const s of ['0', '65', 'SIGNOPE', '', 'SIG']) expect(isSignalName(s), s).to.equal(false);
  });

  it('fills in defaults where an option is missing or undefined', () => {
    const o = applyCreateDefaults({ tty: undefined, init: true, network: 'host' });
    expect(o).to.deep.include({ tty: false, init: true, network: 'host', pull: 'missing', stopTimeout: 10 });
    expect(o.stopSignal, 'the image’s StopSignal comes first').to.equal(undefined);
  });

  it('states its defaults in one place', () => {
    expect(CREATE_DEFAULTS).to.deep.equal({
      tty: false,
      stdin: false,
      privileged: false,
      readonlyRootfs: false,
      init: false,
      network: 'none',
      stopTimeout: 10,
      autoRemove: false,
      pull: 'missing',
      noNewPrivileges: false,
    });
  });
});

describe('engine/flags: docker’s --mount, -v and -e syntaxes', () => {
  it('parses --mount binds with every alias', () => {
    expect(parseMountFlag('type=bind,source=/srv,target=/data')).to.deep.equal({ type: 'bind', source: '/srv', target: '/data', readonly: false });
    expect(parseMountFlag('type=bind,src=/srv,dst=/data,ro')).to.deep.equal({ type: 'bind', source: '/srv', target: '/data', readonly: true });
    expect(parseMountFlag('type=bind,src=/srv,destination=/data,readonly=false,bind-propagation=rshared')).to.deep.equal({
      type: 'bind',
      source: '/srv',
      target: '/data',
      readonly: false,
      propagation: 'rshared',
    });
    expect(parseMountFlag('type=bind,"src=/a,b",dst=/c,ro=1')).to.deep.equal({ type: 'bind', source: '/a,b', target: '/c', readonly: true });
  });

  it('parses --mount tmpfs with size units and an octal mode', () => {
    expect(parseMountFlag('type=tmpfs,dst=/run')).to.deep.equal({ type: 'tmpfs', target: '/run', readonly: false });
    expect(parseMountFlag('type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=1770')).to.deep.equal({
      type: 'tmpfs',
      target: '/cache',
      readonly: false,
      size: 64 * 1024 * 1024,
      mode: 0o1770,
    });
    expect(parseMountFlag('type=tmpfs,dst=/x,tmpfs-size=4096')).to.deep.include({ size: 4096 });
  });

  it('refuses bad --mount values, naming the flag', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['src=/a,dst=/b', /volumes are not supported yet/],
      ['type=volume,src=v,dst=/b', /volumes are not supported yet/],
      ['type=npipe,src=/a,dst=/b', /not bind or tmpfs/],
      ['type=bind,dst=/b', /source is required/],
      ['type=bind,src=rel,dst=/b', /absolute/],
      ['type=bind,src=/a', /target is required/],
      ['type=bind,src=/a,dst=b', /absolute/],
      ['type=bind,src=/a,dst=/b,tmpfs-size=1m', /unexpected key "tmpfs-size"/],
      ['type=tmpfs,src=/a,dst=/b', /source is not allowed/],
      ['type=tmpfs,dst=/b,bind-propagation=shared', /unexpected key/],
      ['type=bind,src=/a,dst=/b,dst=/c', /given twice/],
      ['type=bind,src=/a,dst=/b,ro=maybe', /readonly must be true or false/],
      ['type=bind,src=/a,dst=/b,bind-propagation=up', /bind-propagation must be/],
      ['type=tmpfs,dst=/b,tmpfs-size=lots', /not a size/],
      ['type=tmpfs,dst=/b,tmpfs-mode=999', /not an octal mode/],
      ['type=bind,src=/a,dst=/b,bogus=1', /unexpected key "bogus"/],
      ['type=bind,src="/a,dst=/b', /unterminated quote/],
      ['type=bind,src=,dst=/b', /source needs a value/],
    ];
    for (const [value, message] of cases)
      expect(
        flagError(() => parseMountFlag(value)),
        value,
      )
        .to.match(/^--mount: /)
        .and.match(message);
  });

  it('parses -v host:container[:options]', () => {
    expect(parseVolumeFlag('/srv:/data')).to.deep.equal({ type: 'bind', source: '/srv', target: '/data', readonly: false, createSource: true });
    expect(parseVolumeFlag('/srv:/data:ro')).to.deep.equal({ type: 'bind', source: '/srv', target: '/data', readonly: true, createSource: true });
    expect(parseVolumeFlag('/srv:/data:rw,rslave,Z')).to.deep.equal({
      type: 'bind',
      source: '/srv',
      target: '/data',
      readonly: false,
      createSource: true,
      propagation: 'rslave',
    });
    const cases: Array<[string, RegExp]> = [
      ['/data', /anonymous volumes are not supported/],
      ['name:/data', /named volumes are not supported yet/],
      ['/srv:data', /must be absolute/],
      ['/srv:/data:ro,rw', /ro and rw/],
      ['/srv:/data:nocopy', /unknown option "nocopy"/],
      ['/a:/b:ro:x', /expected/],
    ];
    for (const [value, message] of cases)
      expect(
        flagError(() => parseVolumeFlag(value)),
        value,
      )
        .to.match(/^--volume: /)
        .and.match(message);
  });

  it('reads sizes as docker does (powers of 1024)', () => {
    expect(parseByteSize('512')).to.equal(512);
    expect(parseByteSize('1k')).to.equal(1024);
    expect(parseByteSize('1.5MiB')).to.equal(1.5 * 1024 * 1024);
    expect(parseByteSize('2g')).to.equal(2 * 1024 ** 3);
    expect(parseByteSize('2 GB')).to.equal(2 * 1024 ** 3);
    expect(parseByteSize('-1')).to.equal(undefined);
    expect(parseByteSize('1x')).to.equal(undefined);
  });

  it('resolves a bare -e KEY from the given environment, as docker’s CLI does', () => {
    const env = { HOME: '/home/me', EMPTY: '' };
    expect(parseEnvFlag('A=1', env)).to.equal('A=1');
    expect(parseEnvFlag('HOME', env)).to.equal('HOME=/home/me');
    expect(parseEnvFlag('EMPTY', env)).to.equal('EMPTY=');
    expect(parseEnvFlag('UNSET', env)).to.equal('UNSET');
    expect(parseEnvFlag('toString', env)).to.equal('toString');
    expect(flagError(() => parseEnvFlag('=x', env))).to.match(/^--env: /);
  });
});
