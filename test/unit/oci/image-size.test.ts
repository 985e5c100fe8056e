import { expect } from 'chai';
import { configPlatform, imageContentSize } from '../../../lib/oci/index.js';

describe('oci: image size and config platform', () => {
  it('adds the manifest, config and layer sizes', () => {
    const layer = (size: number) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'a'.repeat(64)}` as never, size });
    const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'b'.repeat(64)}` as never, size: 386 };
    expect(imageContentSize({ size: 405 }, { config, layers: [layer(1_056_031), layer(7)] })).to.equal(405 + 386 + 1_056_031 + 7);
    expect(imageContentSize({ size: 10 }, { config, layers: [] })).to.equal(396);
  });

  it('takes os, architecture and a variant only when set', () => {
    expect(configPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).to.deep.equal({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(configPlatform({ os: 'linux', architecture: 'amd64' })).to.deep.equal({ os: 'linux', architecture: 'amd64' });
    expect(configPlatform({ os: 'linux', architecture: 'amd64', variant: '' })).to.deep.equal({ os: 'linux', architecture: 'amd64' });
  });
});
