// Documents that lie: repeated JSON keys (parsers disagree on which wins), a body whose mediaType contradicts the
// descriptor it was reached through, a config for another platform than its index entry says.
import { expect } from 'chai';
import { findDuplicateKey } from '../../../lib/oci/json-duplicate-keys.js';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { parseImageConfig, parseIndex, parseManifest, parseManifestOrIndex } from '../../../lib/oci/parse.js';
import type { Platform } from '../../../lib/oci/platform.js';
import { DELETE, desc, edit, expectError, sha } from './parse-helpers.js';

const manifest = {
  schemaVersion: 2,
  mediaType: M.OCI_MANIFEST,
  config: desc(M.OCI_CONFIG, 'config', 300),
  layers: [desc(M.OCI_LAYER_GZIP, 'l0', 3000, { annotations: { a: '1', b: '2' } })],
};
const index = {
  schemaVersion: 2,
  mediaType: M.OCI_INDEX,
  manifests: [desc(M.OCI_MANIFEST, 'm', 500, { platform: { os: 'linux', architecture: 'amd64' } })],
};
const config = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['A=1'], Labels: { 'org.example': 'x' } },
  rootfs: { type: 'layers', diff_ids: [sha('l0')] },
};

/** `JSON.stringify(doc)` with the first `"key":` at `path` written twice, the copy holding `value` (first). */
function withRepeatedKey(doc: unknown, needle: string, copy: string): string {
  const text = JSON.stringify(doc);
  const at = text.indexOf(needle);
  expect(at, `${needle} in ${text}`).to.be.at.least(0);
  return `${text.slice(0, at)}${copy},${text.slice(at)}`;
}

describe('oci: documents that lie', () => {
  describe('repeated JSON keys', () => {
    const cases: Array<{ name: string; text: string; parse: (t: string) => unknown; field: string }> = [
      {
        name: 'a manifest mediaType',
        text: withRepeatedKey(manifest, '"mediaType":"application/vnd.oci.image.manifest', `"mediaType":"${M.OCI_INDEX}"`),
        parse: (t) => parseManifest(t),
        field: 'mediaType',
      },
      {
        name: 'the config descriptor digest',
        text: withRepeatedKey(manifest, `"digest":"${sha('config')}"`, `"digest":"${sha('other')}"`),
        parse: (t) => parseManifest(t),
        field: 'config.digest',
      },
      {
        name: 'a layer annotation',
        text: withRepeatedKey(manifest, '"b":"2"', '"b":"3"'),
        parse: (t) => parseManifestOrIndex(t),
        field: 'layers[0].annotations.b',
      },
      {
        name: 'an index entry platform os',
        text: withRepeatedKey(index, '"os":"linux"', '"os":"windows"'),
        parse: (t) => parseIndex(t),
        field: 'manifests[0].platform.os',
      },
      {
        name: 'a config architecture',
        text: withRepeatedKey(config, '"architecture":"amd64"', '"architecture":"arm64"'),
        parse: (t) => parseImageConfig(t),
        field: 'architecture',
      },
      {
        name: 'a config label',
        text: withRepeatedKey(config, '"org.example":"x"', '"org.example":"y"'),
        parse: (t) => parseImageConfig(t),
        field: 'config.Labels["org.example"]',
      },
      {
        name: 'a key spelled with an escape',
        text: withRepeatedKey(config, '"os":"linux"', '"\\u006fs":"windows"'),
        parse: (t) => parseImageConfig(t),
        field: 'os',
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.name} given twice with ERR_DUPLICATE_JSON_KEY at ${c.field}`, () => {
        // JSON.parse alone would quietly keep one of the two.
        expect(() => JSON.parse(c.text)).to.not.throw();
        const err = expectError(() => c.parse(c.text), 'ERR_DUPLICATE_JSON_KEY', c.field);
        expect(err.message).to.contain('appears twice');
      });
    }

    it('accepts the same key in sibling objects, keys inside strings, and escaped quotes and backslashes', () => {
      const doc = { a: { k: 1 }, b: { k: 2 }, c: [{ k: 1 }, { k: 2 }], d: '"k":1,"k":2', 'e\\"': { 'e\\"x': '\\' }, f: [[], {}, [{}]] };
      expect(findDuplicateKey(JSON.stringify(doc))).to.equal(undefined);
      expect(findDuplicateKey(' { "k" : 1 , "d" : { "k" : 2 } , "k" : 3 } ')).to.deep.equal(['k']);
      expect(findDuplicateKey('{"a":[{"x":1},{"y":{"z":"\\"","z":0}}]}')).to.deep.equal(['a', 1, 'y', 'z']);
      expect(parseManifest(JSON.stringify(manifest)).layers).to.have.length(1);
    });

    it('scans a 4 MiB manifest in one pass (linear: a document of many objects and long strings)', () => {
      const layers = Array.from({ length: 12_000 }, (_, i) => desc(M.OCI_LAYER_GZIP, `l${i}`, i, { annotations: { [`k${i}`]: 'v'.repeat(100), k: '\\"' } }));
      const text = JSON.stringify({ ...manifest, layers });
      expect(text.length).to.be.within(3 * 1024 * 1024, 4 * 1024 * 1024);
      expect(parseManifest(text, { strictMediaTypes: false }).layers).to.have.length(12_000);
      expect(findDuplicateKey(`${text.slice(0, -1)},"layers":[]}`)).to.deep.equal(['layers']);
    });
  });

  describe('a body that claims another media type than its descriptor', () => {
    const bodies: Record<string, unknown> = {
      [M.OCI_MANIFEST]: manifest,
      [M.DOCKER_MANIFEST]: {
        ...manifest,
        mediaType: M.DOCKER_MANIFEST,
        config: desc(M.DOCKER_CONFIG, 'config', 300),
        layers: [desc(M.DOCKER_LAYER_GZIP, 'l0', 3000)],
      },
      [M.OCI_INDEX]: index,
      [M.DOCKER_MANIFEST_LIST]: { ...index, mediaType: M.DOCKER_MANIFEST_LIST },
    };
    for (const [claimed, doc] of Object.entries(bodies)) {
      for (const served of Object.keys(bodies)) {
        if (served === claimed) continue;
        it(`refuses a body claiming ${claimed} reached as ${served}`, () => {
          expectError(() => parseManifestOrIndex(JSON.stringify(doc), { expected: { mediaType: served } }), 'ERR_MEDIA_TYPE_MISMATCH');
          // Without its mediaType, a body of the other kind is still told apart by its fields.
          const bare = edit(doc, ['mediaType'], DELETE);
          const sameKind = (served.includes('index') || served.includes('list')) === (claimed.includes('index') || claimed.includes('list'));
          if (!sameKind) expectError(() => parseManifestOrIndex(JSON.stringify(bare), { expected: { mediaType: served } }), 'ERR_MEDIA_TYPE_MISMATCH');
        });
      }
    }
  });

  describe('a config for another platform than its manifest was selected for', () => {
    const parse = (doc: unknown, platform: Platform): unknown => parseImageConfig(JSON.stringify(doc), { platform });
    it('refuses another os, architecture, or (when both name one) variant with ERR_PLATFORM_MISMATCH', () => {
      expectError(() => parse(config, { os: 'linux', architecture: 's390x' }), 'ERR_PLATFORM_MISMATCH', 'architecture');
      expectError(() => parse(config, { os: 'windows', architecture: 'amd64' }), 'ERR_PLATFORM_MISMATCH', 'os');
      const arm = { ...config, architecture: 'arm', variant: 'v6' };
      const err = expectError(() => parse(arm, { os: 'linux', architecture: 'arm', variant: 'v7' }), 'ERR_PLATFORM_MISMATCH', 'variant');
      expect(err.details).to.deep.include({ expected: 'linux/arm/v7', actual: 'linux/arm/v6' });
    });

    it('accepts the same platform under its aliases, and a variant only one side names', () => {
      expect(parse(config, { os: 'linux', architecture: 'amd64' })).to.be.an('object');
      expect(parse({ ...config, architecture: 'x86_64' }, { os: 'Linux', architecture: 'amd64' })).to.be.an('object');
      expect(parse({ ...config, architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'aarch64' })).to.be.an('object');
      expect(parse({ ...config, architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' })).to.be.an('object');
      expect(parse({ ...config, architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).to.be.an('object');
      // Without the option nothing is compared.
      expect(parseImageConfig(JSON.stringify({ ...config, architecture: 's390x' }))).to.be.an('object');
    });
  });
});
