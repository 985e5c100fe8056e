import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { chainIds } from '../../../lib/oci/index.js';

// Vectors computed outside this code with coreutils: A = `printf a | sha256sum`, B, C likewise;
// AB = `printf '%s' "$A $B" | sha256sum`, ABC = `printf '%s' "$AB $C" | sha256sum`.
const A = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
const B = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
const C = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
const AB = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
const ABC = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';

describe('oci/chain-id', () => {
  it('keeps the first diff ID and chains the rest with sha256("<prev> <diffID>")', () => {
    expect(chainIds([A, B, C])).to.deep.equal([A, AB, ABC]);
  });

  it('depends on the order of the layers', () => {
    expect(chainIds([B, A])[1]).to.not.equal(AB);
  });

  it('gives one chain ID per layer, and none for no layers', () => {
    expect(chainIds([A])).to.deep.equal([A]);
    expect(chainIds([])).to.deep.equal([]);
  });

  it('rejects malformed diff IDs and a non-array', () => {
    expect(() => chainIds([A, 'sha256:xyz']))
      .to.throw(ContainerkitError)
      .with.property('code', 'ERR_INVALID_DIGEST');
    expect(() => chainIds([A.toUpperCase()]))
      .to.throw(ContainerkitError)
      .with.property('code', 'ERR_INVALID_DIGEST');
    expect(() => chainIds('sha256:abc' as unknown as string[]))
      .to.throw(ContainerkitError)
      .with.property('code', 'ERR_INVALID_ARGUMENT');
  });
});
