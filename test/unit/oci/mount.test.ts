import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { isReadonlyMount, type Mount, mountArgs } from '../../../lib/oci/mount.js';

function expectInvalid(fn: () => unknown, fragment: string): void {
  expect(fn).to.throw(ContainerkitError, fragment).with.property('code', 'ERR_INVALID_ARGUMENT');
}

describe('oci/mount', () => {
  const overlay: Mount = {
    type: 'overlay',
    source: 'overlay',
    options: ['index=off', 'lowerdir=/s/2/fs:/s/1/fs', 'upperdir=/s/3/fs', 'workdir=/s/3/work'],
  };

  it('formats an overlay mount for mount(8), options joined with commas, -- before the operands', () => {
    expect(mountArgs(overlay, '/run/c1/rootfs')).to.deep.equal([
      '-t',
      'overlay',
      '-o',
      'index=off,lowerdir=/s/2/fs:/s/1/fs,upperdir=/s/3/fs,workdir=/s/3/work',
      '--',
      'overlay',
      '/run/c1/rootfs',
    ]);
  });

  it('leaves -o out when there are no options', () => {
    expect(mountArgs({ type: 'tmpfs', source: 'tmpfs', options: [] }, '/mnt')).to.deep.equal(['-t', 'tmpfs', '--', 'tmpfs', '/mnt']);
  });

  it('uses mount.target by default, and the target argument wins over it', () => {
    const bind: Mount = { type: 'bind', source: '/srv/a', target: '/srv/b', options: ['rbind', 'ro'] };
    expect(mountArgs(bind)).to.deep.equal(['-o', 'rbind,ro', '--', '/srv/a', '/srv/b']);
    expect(mountArgs(bind, '/elsewhere').at(-1)).to.equal('/elsewhere');
  });

  it('builds a bind as mount(8) takes it: no -t, and a bind option unless bind or rbind is there', () => {
    expect(mountArgs({ type: 'bind', source: '/s', options: ['ro'] }, '/t')).to.deep.equal(['-o', 'bind,ro', '--', '/s', '/t']);
    expect(mountArgs({ type: 'bind', source: '/s', options: [] }, '/t')).to.deep.equal(['-o', 'bind', '--', '/s', '/t']);
    expect(mountArgs({ type: 'bind', source: '/s', options: ['bind', 'rw'] }, '/t')).to.deep.equal(['-o', 'bind,rw', '--', '/s', '/t']);
  });

  it('keeps a source that starts with a dash after --, so it is not read as a flag', () => {
    const args = mountArgs({ type: 'bind', source: '-weird', options: [] }, '/t');
    expect(args.indexOf('--')).to.be.lessThan(args.indexOf('-weird'));
  });

  it('refuses a missing target, empty type or source, bad options', () => {
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: 'tmpfs', options: [] }), 'target');
    expectInvalid(() => mountArgs({ type: '', source: 'tmpfs', options: [] }, '/t'), 'mount.type');
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: '', options: [] }, '/t'), 'mount.source');
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: 'tmpfs', options: ['size=1m,mode=755'] }, '/t'), 'mount.options[0]');
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: 'tmpfs', options: ['ro', ''] }, '/t'), 'mount.options[1]');
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: 'tm\0pfs', options: [] }, '/t'), 'NUL');
    expectInvalid(() => mountArgs({ type: 'tmpfs', source: 'tmpfs', options: 'ro' } as unknown as Mount, '/t'), 'mount.options');
  });

  it('isReadonlyMount follows the last of ro/rw', () => {
    expect(isReadonlyMount({ type: 'bind', source: '/a', options: ['rbind', 'ro'] })).to.equal(true);
    expect(isReadonlyMount({ type: 'bind', source: '/a', options: ['ro', 'rw'] })).to.equal(false);
    expect(isReadonlyMount({ type: 'bind', source: '/a', options: ['rw', 'ro'] })).to.equal(true);
    expect(isReadonlyMount(overlay)).to.equal(false);
  });
});
