import { expect } from 'chai';
import { mountsUsing, parseMountInfo } from '../../../lib/util/mountinfo.js';

// Lines as Linux 6.x prints them (proc(5)): optional fields before the lone `-`, octal escapes in paths and options.
const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '47 26 0:39 / /tmp/m rw,relatime - overlay overlay rw,lowerdir=/s/3/fs:/s/2/fs::/s/data,upperdir=/s/4/fs,workdir=/s/4/work,uuid=on',
  '48 26 254:0 /s/5/fs /tmp/with\\040space rw,relatime shared:7 master:2 - ext4 /dev/vda rw',
  '49 26 0:40 / /tmp/o2 rw - overlay overlay rw,lowerdir+=/a\\054b,datadir+=/d',
  'garbage',
].join('\n');

describe('util/mountinfo', () => {
  it('parses fields, optional fields and escapes', () => {
    const entries = parseMountInfo(MOUNTINFO);
    expect(entries).to.have.length(4);
    expect(entries[2]).to.deep.equal({
      device: '254:0',
      root: '/s/5/fs',
      mountPoint: '/tmp/with space',
      fsType: 'ext4',
      source: '/dev/vda',
      superOptions: ['rw'],
    });
    expect(entries[1]!.superOptions).to.include('lowerdir=/s/3/fs:/s/2/fs::/s/data');
    // An escaped comma stays inside its option.
    expect(entries[3]!.superOptions).to.deep.equal(['rw', 'lowerdir+=/a,b', 'datadir+=/d']);
  });

  it('finds nothing using a directory that does not exist, and refuses relative paths', async () => {
    expect(await mountsUsing('/nonexistent/containerkit/dir')).to.deep.equal([]);
    await mountsUsing('relative').then(
      () => expect.fail('expected a rejection'),
      (err: { code?: string }) => expect(err.code).to.equal('ERR_INVALID_ARGUMENT'),
    );
  });
});
