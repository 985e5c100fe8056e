import { expect } from 'chai';
import { generateName, isContainerId, isValidContainerName, newContainerId, normalizeContainerName } from '../../../lib/engine/ids.js';
import { ContainerkitError } from '../../../lib/errors/index.js';

describe('engine/ids', () => {
  it('makes 64 lower-case hex ids, random, whose short form is never all digits', () => {
    const ids = new Set(Array.from({ length: 500 }, () => newContainerId()));
    expect(ids.size).to.equal(500);
    for (const id of ids) {
      expect(id).to.match(/^[0-9a-f]{64}$/);
      expect(id.slice(0, 12)).to.not.match(/^[0-9]+$/);
      expect(isContainerId(id)).to.equal(true);
    }
    expect(isContainerId('A'.repeat(64))).to.equal(false);
    expect(isContainerId('a'.repeat(63))).to.equal(false);
    expect(isContainerId(42)).to.equal(false);
  });

  it('generates adjective_surname names that are valid, with a digit on retries', () => {
    for (let i = 0; i < 200; i++) {
      const name = generateName();
      expect(name).to.match(/^[a-z]+_[a-z]+$/);
      expect(isValidContainerName(name)).to.equal(true);
      expect(generateName(1)).to.match(/^[a-z]+_[a-z]+[0-9]$/);
    }
    expect(new Set(Array.from({ length: 200 }, () => generateName())).size).to.be.greaterThan(50);
  });

  it("validates names with docker's rule and strips one leading slash", () => {
    for (const ok of ['ab', 'web-1', 'a.b_c-d', 'A9', '/web', '0x']) expect(isValidContainerName(ok), ok).to.equal(true);
    for (const bad of ['', 'a', '/a', '_ab', '-ab', '.ab', 'a b', 'a/b', '//ab', 'ab\n', 'é1', 'a'.repeat(256), 'ab:c']) {
      expect(isValidContainerName(bad), JSON.stringify(bad)).to.equal(false);
    }
    expect(isValidContainerName('a'.repeat(255))).to.equal(true);
    expect(normalizeContainerName('/web')).to.equal('web');
    expect(normalizeContainerName('web')).to.equal('web');
    let err: unknown;
    try {
      normalizeContainerName('bad name');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ContainerkitError);
    expect((err as ContainerkitError).code).to.equal('ERR_INVALID_CONTAINER_NAME');
    expect((err as ContainerkitError).category).to.equal('InvalidArgument');
  });
});
