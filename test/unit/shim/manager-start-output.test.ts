import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { parseShimStartOutput, shimSocketPath } from '../../../lib/shim/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// BootstrapResult{version=1, address=2, protocol=3} as containerd 2.3+ shims print it.
function bootstrapProto(version: number, address: string, protocol: string): Buffer {
  const str = (field: number, s: string): Buffer => Buffer.concat([Buffer.from([(field << 3) | 2, Buffer.byteLength(s)]), Buffer.from(s)]);
  return Buffer.concat([Buffer.from([0x08, version]), str(2, address), str(3, protocol)]);
}

describe('shim start output', () => {
  const address = 'unix:///run/containerd/s/0123abcd';

  it('reads the plain address of 1.x shims (no newline, or with one)', () => {
    expect(parseShimStartOutput(address)).to.deep.equal({ address, version: 2, protocol: 'ttrpc' });
    expect(parseShimStartOutput(Buffer.from(`${address}\n`))).to.deep.equal({ address, version: 2, protocol: 'ttrpc' });
  });

  it('reads JSON with version 2 and refuses version 3 (the v3 task API) clearly', () => {
    expect(parseShimStartOutput(JSON.stringify({ version: 2, address, protocol: 'ttrpc' }))).to.deep.equal({ address, version: 2, protocol: 'ttrpc' });
    const err = thrown(() => parseShimStartOutput(JSON.stringify({ version: 3, address, protocol: 'ttrpc' })));
    expect(hasCode(err, 'ERR_SHIM_TASK_API_UNSUPPORTED')).to.equal(true);
    expect(String(err)).to.contain('v3');
    expect(
      hasCode(
        thrown(() => parseShimStartOutput(JSON.stringify({ version: 2, address, protocol: 'grpc' }))),
        'ERR_SHIM_TASK_API_UNSUPPORTED',
      ),
    ).to.equal(true);
  });

  it('reads the protobuf BootstrapResult of 2.3+ shims', () => {
    expect(parseShimStartOutput(bootstrapProto(2, address, 'ttrpc'))).to.deep.equal({ address, version: 2, protocol: 'ttrpc' });
    expect(
      hasCode(
        thrown(() => parseShimStartOutput(bootstrapProto(3, address, 'ttrpc'))),
        'ERR_SHIM_TASK_API_UNSUPPORTED',
      ),
    ).to.equal(true);
  });

  it('refuses empty output, abstract sockets and malformed JSON', () => {
    for (const bad of ['', '  \n', '/containerd-shim/abc.sock', '{"version":', '{"address":"unix:///x"}']) {
      expect(
        hasCode(
          thrown(() => parseShimStartOutput(bad)),
          'ERR_SHIM_START_FAILED',
        ),
        bad,
      ).to.equal(true);
    }
  });

  it('computes the 1.6 shim socket path as sha256(address/namespace/id)', () => {
    // The spike verified the formula: sha256("$BASE/events.sock/ckspike/spike1").
    const expected = createHash('sha256').update('/run/ckspike-x/events.sock/ckspike/spike1').digest('hex');
    expect(shimSocketPath('/run/ckspike-x/events.sock', 'ckspike', 'spike1')).to.equal(`/run/containerd/s/${expected}`);
  });
});
