import { expect } from 'chai';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { MAX_MANIFEST_SIZE, type ParseManifestOptions, parseManifest } from '../../../lib/oci/parse.js';
import { body, DELETE, desc, edit, expectError, sha } from './parse-helpers.js';

const ociManifest = {
  schemaVersion: 2,
  mediaType: M.OCI_MANIFEST,
  config: desc(M.OCI_CONFIG, 'config', 1469),
  layers: [desc(M.OCI_LAYER_GZIP, 'l0', 3000), desc(M.OCI_LAYER_GZIP, 'l1', 20), desc(M.OCI_LAYER_ZSTD, 'l2', 7)],
  annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
};

const dockerManifest = {
  schemaVersion: 2,
  mediaType: M.DOCKER_MANIFEST,
  config: desc(M.DOCKER_CONFIG, 'dconfig', 1500),
  layers: [desc(M.DOCKER_LAYER_GZIP, 'd0', 2800000), desc(M.DOCKER_LAYER_FOREIGN_GZIP, 'd1', 50, { urls: ['https://mcr.example/layer'] })],
};

const artifact = {
  schemaVersion: 2,
  mediaType: M.OCI_MANIFEST,
  artifactType: 'application/vnd.example.sbom.v1',
  config: desc(M.OCI_EMPTY, '{}', 2, { data: 'e30=' }),
  layers: [desc('application/spdx+json', 'sbom', 512)],
  subject: desc(M.OCI_MANIFEST, 'subject', 900),
};

const helmChart = {
  schemaVersion: 2,
  config: desc('application/vnd.cncf.helm.config.v1+json', 'chart-config', 300),
  layers: [desc('application/vnd.cncf.helm.chart.content.v1.tar+gzip', 'chart', 4000)],
};

const ociIndexBody = { schemaVersion: 2, mediaType: M.OCI_INDEX, manifests: [desc(M.OCI_MANIFEST, 'm', 500)] };
const OCI_EXPECTED = { mediaType: M.OCI_MANIFEST };

interface ValidCase {
  name: string;
  doc: unknown;
  options?: ParseManifestOptions;
}

const VALID: ValidCase[] = [
  { name: 'an OCI image manifest', doc: ociManifest },
  { name: 'a Docker schema 2 manifest with a foreign layer and its urls', doc: dockerManifest },
  {
    name: 'an OCI manifest without mediaType when the descriptor says OCI manifest',
    doc: edit(ociManifest, ['mediaType'], DELETE),
    options: { expected: OCI_EXPECTED },
  },
  { name: 'an OCI manifest without mediaType and without descriptor (by its shape)', doc: edit(ociManifest, ['mediaType'], DELETE) },
  {
    name: 'a body whose mediaType equals the descriptor’s, with a matching size',
    doc: dockerManifest,
    options: { expected: { mediaType: M.DOCKER_MANIFEST, size: JSON.stringify(dockerManifest).length } },
  },
  { name: 'an artifact: artifactType, empty config with data, any layer type, subject', doc: artifact },
  { name: 'an artifact by its non-image config (Helm chart), no mediaType', doc: helmChart },
  {
    name: 'an image with an OCI config but artifactType set may have any layer type',
    doc: edit(edit(ociManifest, ['artifactType'], 'application/vnd.example'), ['layers', 2, 'mediaType'], 'application/x-anything'),
  },
  { name: 'an image with no layers', doc: edit(ociManifest, ['layers'], []) },
  {
    name: 'an unknown layer type when strictMediaTypes is false',
    doc: edit(ociManifest, ['layers', 1, 'mediaType'], 'application/vnd.oci.image.layer.v1.tar+gzip+encrypted'),
    options: { strictMediaTypes: false },
  },
  {
    name: 'a Docker manifest with an artifact config when strictMediaTypes is false',
    doc: edit(dockerManifest, ['config', 'mediaType'], 'application/x-whatever'),
    options: { strictMediaTypes: false },
  },
  {
    name: 'non-distributable OCI layers and OCI layers in a Docker manifest',
    doc: edit(dockerManifest, ['layers', 0, 'mediaType'], M.OCI_LAYER_NONDISTRIBUTABLE_ZSTD),
  },
  {
    name: 'a sha512 digest, size 0, and 2^53 - 1',
    doc: edit(edit(ociManifest, ['layers', 0], { mediaType: M.OCI_LAYER, digest: `sha512:${'a'.repeat(128)}`, size: 0 }), ['layers', 1, 'size'], 2 ** 53 - 1),
  },
  { name: 'extra fields, which are kept', doc: edit(edit(ociManifest, ['x-extra'], { a: 1 }), ['layers', 0, 'x-note'], 'kept') },
];

interface InvalidCase {
  name: string;
  doc: unknown;
  options?: ParseManifestOptions;
  code: string;
  field?: string;
}

const INVALID: InvalidCase[] = [
  // Decoding.
  { name: 'invalid JSON', doc: '{"schemaVersion": 2,', code: 'ERR_INVALID_MANIFEST' },
  { name: 'invalid UTF-8', doc: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), code: 'ERR_INVALID_MANIFEST' },
  { name: 'a UTF-8 byte-order mark', doc: `\ufeff${JSON.stringify(ociManifest)}`, code: 'ERR_INVALID_MANIFEST' },
  { name: 'a JSON array', doc: '[]', code: 'ERR_INVALID_MANIFEST' },
  { name: 'JSON null', doc: 'null', code: 'ERR_INVALID_MANIFEST' },
  { name: 'an empty body', doc: '', code: 'ERR_INVALID_MANIFEST' },
  // Schema version and schema 1.
  { name: 'no schemaVersion', doc: edit(ociManifest, ['schemaVersion'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'schemaVersion' },
  { name: 'schemaVersion "2"', doc: edit(ociManifest, ['schemaVersion'], '2'), code: 'ERR_INVALID_MANIFEST', field: 'schemaVersion' },
  { name: 'schemaVersion 3', doc: edit(ociManifest, ['schemaVersion'], 3), code: 'ERR_INVALID_MANIFEST', field: 'schemaVersion' },
  { name: 'schemaVersion 1', doc: { schemaVersion: 1, name: 'library/x', tag: 'latest', fsLayers: [] }, code: 'ERR_SCHEMA1_UNSUPPORTED' },
  { name: 'a schema 1 mediaType', doc: edit(ociManifest, ['mediaType'], M.DOCKER_SCHEMA1_MANIFEST), code: 'ERR_SCHEMA1_UNSUPPORTED' },
  { name: 'a signed schema 1 mediaType', doc: edit(ociManifest, ['mediaType'], M.DOCKER_SCHEMA1_SIGNED_MANIFEST), code: 'ERR_SCHEMA1_UNSUPPORTED' },
  {
    name: 'a schema 1 descriptor, even before decoding',
    doc: 'not json',
    options: { expected: { mediaType: M.DOCKER_SCHEMA1_SIGNED_MANIFEST } },
    code: 'ERR_SCHEMA1_UNSUPPORTED',
  },
  // Required fields and types.
  { name: 'no config', doc: edit(ociManifest, ['config'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'config' },
  { name: 'config an array', doc: edit(ociManifest, ['config'], []), code: 'ERR_INVALID_MANIFEST', field: 'config' },
  { name: 'no layers', doc: edit(ociManifest, ['layers'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'layers' },
  { name: 'layers an object', doc: edit(ociManifest, ['layers'], {}), code: 'ERR_INVALID_MANIFEST', field: 'layers' },
  { name: 'a layer that is a string', doc: edit(ociManifest, ['layers', 1], 'sha256:abc'), code: 'ERR_INVALID_MANIFEST', field: 'layers[1]' },
  { name: 'a negative size', doc: edit(ociManifest, ['layers', 0, 'size'], -1), code: 'ERR_INVALID_MANIFEST', field: 'layers[0].size' },
  { name: 'size 2^53', doc: edit(ociManifest, ['layers', 1, 'size'], 2 ** 53), code: 'ERR_INVALID_MANIFEST', field: 'layers[1].size' },
  { name: 'a fractional size', doc: edit(ociManifest, ['config', 'size'], 1.5), code: 'ERR_INVALID_MANIFEST', field: 'config.size' },
  { name: 'a string size', doc: edit(ociManifest, ['config', 'size'], '1469'), code: 'ERR_INVALID_MANIFEST', field: 'config.size' },
  { name: 'a missing size', doc: edit(ociManifest, ['layers', 2, 'size'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'layers[2].size' },
  { name: 'a bad digest', doc: edit(ociManifest, ['layers', 2, 'digest'], 'sha256:1234'), code: 'ERR_INVALID_DIGEST', field: 'layers[2].digest' },
  {
    name: 'an upper-case digest',
    doc: edit(ociManifest, ['config', 'digest'], sha('config').toUpperCase().replace('SHA256', 'sha256')),
    code: 'ERR_INVALID_DIGEST',
    field: 'config.digest',
  },
  {
    name: 'an unsupported digest algorithm',
    doc: edit(ociManifest, ['config', 'digest'], `md5:${'a'.repeat(32)}`),
    code: 'ERR_UNSUPPORTED_DIGEST_ALGORITHM',
    field: 'config.digest',
  },
  { name: 'a missing digest', doc: edit(ociManifest, ['config', 'digest'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'config.digest' },
  {
    name: 'a missing layer mediaType',
    doc: edit(dockerManifest, ['layers', 1, 'mediaType'], DELETE),
    code: 'ERR_INVALID_MANIFEST',
    field: 'layers[1].mediaType',
  },
  { name: 'a numeric mediaType', doc: edit(ociManifest, ['config', 'mediaType'], 7), code: 'ERR_INVALID_MANIFEST', field: 'config.mediaType' },
  {
    name: 'a malformed layer mediaType',
    doc: edit(ociManifest, ['layers', 0, 'mediaType'], 'tar+gzip'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'layers[0].mediaType',
  },
  { name: 'urls not an array', doc: edit(dockerManifest, ['layers', 1, 'urls'], 'https://x'), code: 'ERR_INVALID_MANIFEST', field: 'layers[1].urls' },
  {
    name: 'a url that is a number',
    doc: edit(dockerManifest, ['layers', 1, 'urls'], ['https://x', 5]),
    code: 'ERR_INVALID_MANIFEST',
    field: 'layers[1].urls[1]',
  },
  {
    name: 'a url that is not a URL',
    doc: edit(dockerManifest, ['layers', 1, 'urls'], ['not a url']),
    code: 'ERR_INVALID_MANIFEST',
    field: 'layers[1].urls[0]',
  },
  { name: 'annotations an array', doc: edit(ociManifest, ['annotations'], ['a']), code: 'ERR_INVALID_MANIFEST', field: 'annotations' },
  { name: 'annotations null', doc: edit(ociManifest, ['annotations'], null), code: 'ERR_INVALID_MANIFEST', field: 'annotations' },
  {
    name: 'a non-string annotation',
    doc: edit(ociManifest, ['annotations', 'org.example.n'], 3),
    code: 'ERR_INVALID_MANIFEST',
    field: 'annotations["org.example.n"]',
  },
  {
    name: 'a non-string layer annotation',
    doc: edit(ociManifest, ['layers', 0, 'annotations'], { ok: 'x', bad: true }),
    code: 'ERR_INVALID_MANIFEST',
    field: 'layers[0].annotations.bad',
  },
  { name: 'data that is not base64', doc: edit(artifact, ['config', 'data'], 'e30'), code: 'ERR_INVALID_MANIFEST', field: 'config.data' },
  { name: 'data longer than size', doc: edit(artifact, ['config', 'data'], 'e30hIQ=='), code: 'ERR_INVALID_MANIFEST', field: 'config.data' },
  { name: 'a malformed artifactType', doc: edit(artifact, ['artifactType'], 'sbom'), code: 'ERR_INVALID_MANIFEST', field: 'artifactType' },
  { name: 'a bad subject digest', doc: edit(artifact, ['subject', 'digest'], 'sha256:'), code: 'ERR_INVALID_DIGEST', field: 'subject.digest' },
  { name: 'an empty config without artifactType', doc: edit(artifact, ['artifactType'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'artifactType' },
  // Media type rules.
  {
    name: 'an unknown layer type in an image',
    doc: edit(ociManifest, ['layers', 2, 'mediaType'], 'application/vnd.oci.image.layer.v1.tar+lz4'),
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'layers[2].mediaType',
  },
  {
    name: 'the empty type as a layer of an image',
    doc: edit(ociManifest, ['layers', 0, 'mediaType'], M.OCI_EMPTY),
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'layers[0].mediaType',
  },
  {
    name: 'an unknown layer type in a Docker manifest',
    doc: edit(dockerManifest, ['layers', 1, 'mediaType'], 'application/octet-stream'),
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'layers[1].mediaType',
  },
  {
    name: 'a Docker manifest with an artifact config',
    doc: edit(dockerManifest, ['config', 'mediaType'], 'application/vnd.cncf.helm.config.v1+json'),
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'config.mediaType',
  },
  { name: 'an index mediaType', doc: edit(ociManifest, ['mediaType'], M.OCI_INDEX), code: 'ERR_UNSUPPORTED_MEDIA_TYPE', field: 'mediaType' },
  { name: 'an unknown mediaType', doc: edit(ociManifest, ['mediaType'], 'application/json'), code: 'ERR_UNSUPPORTED_MEDIA_TYPE', field: 'mediaType' },
  { name: 'a malformed mediaType', doc: edit(ociManifest, ['mediaType'], 'manifest'), code: 'ERR_INVALID_MANIFEST', field: 'mediaType' },
  // Against the descriptor.
  {
    name: 'an OCI body fetched through a Docker descriptor',
    doc: ociManifest,
    options: { expected: { mediaType: M.DOCKER_MANIFEST } },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
    field: 'mediaType',
  },
  {
    name: 'a Docker body fetched through an OCI descriptor',
    doc: dockerManifest,
    options: { expected: OCI_EXPECTED },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
    field: 'mediaType',
  },
  {
    name: 'an index body fetched through a manifest descriptor',
    doc: ociIndexBody,
    options: { expected: OCI_EXPECTED },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
    field: 'mediaType',
  },
  {
    name: 'an index-shaped body without mediaType and a manifest descriptor',
    doc: edit(ociIndexBody, ['mediaType'], DELETE),
    options: { expected: OCI_EXPECTED },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
  },
  {
    name: 'a descriptor with an index type',
    doc: ociManifest,
    options: { expected: { mediaType: M.OCI_INDEX } },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'expected.mediaType',
  },
  {
    name: 'a descriptor with an unknown type',
    doc: ociManifest,
    options: { expected: { mediaType: 'application/octet-stream' } },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'expected.mediaType',
  },
  { name: 'a size other than the descriptor’s', doc: ociManifest, options: { expected: { mediaType: M.OCI_MANIFEST, size: 10 } }, code: 'ERR_SIZE_MISMATCH' },
  // Shape (the index/manifest ambiguity).
  { name: 'a manifest that also has manifests', doc: edit(ociManifest, ['manifests'], []), code: 'ERR_INVALID_MANIFEST', field: 'manifests' },
  { name: 'no mediaType and both manifests and layers', doc: edit(edit(ociManifest, ['mediaType'], DELETE), ['manifests'], []), code: 'ERR_INVALID_MANIFEST' },
  { name: 'no mediaType and neither manifests nor config/layers', doc: { schemaVersion: 2 }, code: 'ERR_INVALID_MANIFEST' },
  { name: 'no mediaType and the shape of an index', doc: edit(ociIndexBody, ['mediaType'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'manifests' },
  // Options and input.
  { name: 'maxSize 0', doc: ociManifest, options: { maxSize: 0 }, code: 'ERR_INVALID_ARGUMENT' },
  { name: 'a fractional maxSize', doc: ociManifest, options: { maxSize: 1.5 }, code: 'ERR_INVALID_ARGUMENT' },
  { name: 'expected without mediaType', doc: ociManifest, options: { expected: {} as never }, code: 'ERR_INVALID_ARGUMENT' },
  { name: 'expected with a negative size', doc: ociManifest, options: { expected: { mediaType: M.OCI_MANIFEST, size: -1 } }, code: 'ERR_INVALID_ARGUMENT' },
  { name: 'strictMediaTypes not a boolean', doc: ociManifest, options: { strictMediaTypes: 'no' as never }, code: 'ERR_INVALID_ARGUMENT' },
  { name: 'a body smaller than it but over maxSize', doc: ociManifest, options: { maxSize: 100 }, code: 'ERR_MANIFEST_TOO_LARGE' },
];

describe('oci/parse-manifest: parseManifest', () => {
  for (const c of VALID) {
    it(`accepts ${c.name}`, () => {
      const parsed = parseManifest(body(c.doc), c.options);
      expect(parsed).to.deep.equal(c.doc);
    });
  }

  for (const c of INVALID) {
    it(`refuses ${c.name} with ${c.code}${c.field === undefined ? '' : ` at ${c.field}`}`, () => {
      expectError(() => parseManifest(body(c.doc), c.options), c.code, c.field);
    });
  }

  it('takes a Buffer, a Uint8Array or a string', () => {
    const text = JSON.stringify(ociManifest);
    for (const input of [Buffer.from(text), new Uint8Array(Buffer.from(text)), text]) {
      expect(parseManifest(input).config.digest).to.equal(sha('config'));
    }
    expectError(() => parseManifest(42 as never), 'ERR_INVALID_ARGUMENT');
  });

  it('refuses a body of 4 MiB + 1 byte before decoding it: invalid JSON past the cap still reports the size', () => {
    expect(MAX_MANIFEST_SIZE).to.equal(4 * 1024 * 1024);
    const garbage = Buffer.alloc(MAX_MANIFEST_SIZE + 1, 0x7b); // "{{{{…": not JSON at all
    const original = JSON.parse;
    let calls = 0;
    JSON.parse = ((...args: Parameters<typeof JSON.parse>) => {
      calls += 1;
      return original(...args);
    }) as typeof JSON.parse;
    try {
      const err = expectError(() => parseManifest(garbage), 'ERR_MANIFEST_TOO_LARGE');
      expect(err.details).to.deep.equal({ size: MAX_MANIFEST_SIZE + 1, maxSize: MAX_MANIFEST_SIZE });
    } finally {
      JSON.parse = original;
    }
    expect(calls).to.equal(0);
  });

  it('accepts a valid manifest of exactly 4 MiB and refuses the same one byte larger', () => {
    const text = JSON.stringify(ociManifest);
    const exact = text + ' '.repeat(MAX_MANIFEST_SIZE - text.length);
    expect(parseManifest(Buffer.from(exact)).layers).to.have.length(3);
    expectError(() => parseManifest(Buffer.from(`${exact} `)), 'ERR_MANIFEST_TOO_LARGE');
  });

  it('measures a string body in UTF-8 bytes, not in characters', () => {
    const text = JSON.stringify(edit(ociManifest, ['annotations', 'pad'], 'é'.repeat(MAX_MANIFEST_SIZE / 2)));
    expect(text.length).to.be.lessThan(MAX_MANIFEST_SIZE);
    expectError(() => parseManifest(text), 'ERR_MANIFEST_TOO_LARGE');
  });

  it('tells the user to re-push a schema 1 image', () => {
    const err = expectError(() => parseManifest('{"schemaVersion": 1}'), 'ERR_SCHEMA1_UNSUPPORTED');
    expect(err.message).to.match(/schema 1 is not supported/);
    expect(err.message).to.match(/re-push/);
  });

  it('names the field and the document in the message', () => {
    const err = expectError(() => parseManifest(body(edit(ociManifest, ['layers', 2, 'size'], -5))), 'ERR_INVALID_MANIFEST', 'layers[2].size');
    expect(err.message).to.equal('invalid image manifest: layers[2].size: must be a non-negative safe integer, got -5');
  });

  it('keeps the digest error as the cause of a digest field error', () => {
    const err = expectError(() => parseManifest(body(edit(ociManifest, ['layers', 0, 'digest'], 'nope'))), 'ERR_INVALID_DIGEST', 'layers[0].digest');
    expect((err.cause as { code?: string }).code).to.equal('ERR_INVALID_DIGEST');
  });
});
