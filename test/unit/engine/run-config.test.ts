import { expect } from 'chai';
import { mergeArgs, mergeEnv, mergeRunConfig, replaceOrAppendEnv } from '../../../lib/engine/run-config.js';
import { hasCode } from '../../../lib/errors/index.js';
import type { ImageConfig, ImageRunConfig } from '../../../lib/oci/image-config.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function image(config: ImageRunConfig): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] } };
}

describe('engine/run-config: image config and options merged by dockerd’s rules', () => {
  it('builds argv from entrypoint and cmd: a new entrypoint drops the image’s Cmd', () => {
    const img = image({ Entrypoint: ['/ep', '-x'], Cmd: ['serve'] });
    const cases: Array<[Parameters<typeof mergeArgs>[1], string[]]> = [
      [{}, ['/ep', '-x', 'serve']],
      [{ cmd: ['run', 'fast'] }, ['/ep', '-x', 'run', 'fast']],
      [{ cmd: [] }, ['/ep', '-x', 'serve']],
      [{ entrypoint: ['/other'] }, ['/other']],
      [{ entrypoint: ['/other'], cmd: ['a'] }, ['/other', 'a']],
      [{ entrypoint: [], cmd: ['sh'] }, ['sh']],
      [{ entrypoint: [''], cmd: ['sh'] }, ['sh']],
    ];
    for (const [options, args] of cases) expect(mergeArgs(img, options), JSON.stringify(options)).to.deep.equal(args);
    expect(mergeArgs(image({ Cmd: ['sh'] }), {})).to.deep.equal(['sh']);
    expect(mergeArgs(image({ Entrypoint: null, Cmd: null }), { cmd: ['true'] })).to.deep.equal(['true']);
  });

  it('fails with ERR_NO_COMMAND when nothing is left to run', () => {
    const cases: Array<[ImageRunConfig, { entrypoint?: string[] }]> = [
      [{}, {}],
      [{ Entrypoint: ['/ep'] }, { entrypoint: [] }],
      [{ Cmd: ['sh'] }, { entrypoint: [''] }],
    ];
    for (const [config, options] of cases) {
      let err: unknown;
      try {
        mergeArgs(image(config), options);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'ERR_NO_COMMAND'), JSON.stringify([config, options])).to.equal(true);
    }
  });

  it('builds env as dockerd does: PATH, HOSTNAME, TERM first; options over image; a bare key unsets', () => {
    const img = image({ Env: ['PATH=/opt/bin', 'FOO=image', 'BAR=image', 'KEEP=1'] });
    expect(mergeEnv(img, { env: ['BAR=option', 'NEW=1', 'FOO'], tty: true }, 'abc')).to.deep.equal([
      'PATH=/opt/bin',
      'HOSTNAME=abc',
      'TERM=xterm',
      'BAR=option',
      'NEW=1',
      'KEEP=1',
    ]);
    expect(mergeEnv(image({}), {}, 'h')).to.deep.equal([DEFAULT_PATH, 'HOSTNAME=h']);
    expect(mergeEnv(image({ Env: ['A=1'] }), { env: ['HOSTNAME=mine', 'TERM=dumb'], tty: true }, 'h')).to.deep.equal([
      DEFAULT_PATH,
      'HOSTNAME=mine',
      'TERM=dumb',
      'A=1',
    ]);
    expect(mergeEnv(image({ Env: ['A=x=y'] }), { env: ['PATH'] }, 'h')).to.deep.equal(['HOSTNAME=h', 'A=x=y']);
  });

  it('replaces or appends by key and drops bare keys', () => {
    expect(replaceOrAppendEnv(['A=1', 'B=2'], ['B=3', 'C', 'D=4', 'A'])).to.deep.equal(['B=3', 'D=4']);
  });

  it('takes workdir, user, labels and stop signal from the options over the image', () => {
    const img = image({ Cmd: ['sh'], WorkingDir: 'app', User: 'nobody', Labels: { a: 'image', b: 'image' }, StopSignal: 'SIGQUIT' });
    const fromImage = mergeRunConfig(img, {}, 'h');
    expect(fromImage).to.deep.include({ workdir: '/app', user: 'nobody', stopSignal: 'SIGQUIT' });
    expect(fromImage.labels).to.deep.equal({ a: 'image', b: 'image' });
    const fromOptions = mergeRunConfig(img, { workdir: '/srv', user: '1:1', labels: { b: 'option', c: 'option' }, stopSignal: 'SIGINT' }, 'h');
    expect(fromOptions).to.deep.include({ workdir: '/srv', user: '1:1', stopSignal: 'SIGINT' });
    expect(fromOptions.labels).to.deep.equal({ a: 'image', b: 'option', c: 'option' });
    expect(mergeRunConfig(image({ Cmd: ['sh'] }), {}, 'h')).to.deep.include({ workdir: '/', user: '', stopSignal: 'SIGTERM' });
  });

  it('keeps a label named __proto__ as data', () => {
    const img = image({ Cmd: ['sh'], Labels: JSON.parse('{"__proto__": "x"}') as Record<string, string> });
    const { labels } = mergeRunConfig(img, {}, 'h');
    expect(Object.getPrototypeOf(labels)).to.equal(Object.prototype);
    expect(Object.hasOwn(labels, '__proto__')).to.equal(true);
  });
});
