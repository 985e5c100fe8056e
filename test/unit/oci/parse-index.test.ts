import { expect } from 'chai';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { type ParseManifestOptions, parseIndex, parseManifestOrIndex } from '../../../lib/oci/parse.js';
import { body, DELETE, desc, edit, expectError } from './parse-helpers.js';

const ociIndex = {
  schemaVersion: 2,
  mediaType: M.OCI_INDEX,
  manifests: [
    desc(M.OCI_MANIFEST, 'amd64', 1000, { platform: { architecture: 'amd64', os: 'linux' } }),
    desc(M.OCI_MANIFEST, 'arm', 1000, { platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }),
    desc(M.OCI_MANIFEST, 'win', 1000, {
      platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1040', 'os.features': ['win32k'] },
    }),
    // A BuildKit attestation manifest: not a platform image, but a manifest all the same.
    desc(M.OCI_MANIFEST, 'att', 800, {
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    }),
  ],
};

const dockerList = {
  schemaVersion: 2,
  mediaType: M.DOCKER_MANIFEST_LIST,
  manifests: [desc(M.DOCKER_MANIFEST, 'd-amd64', 528, { platform: { architecture: 'amd64', os: 'linux', features: ['sse4'] } })],
};

// An OCI layout's index.json: no mediaType, names in annotations.
const layoutIndex = {
  schemaVersion: 2,
  manifests: [desc(M.OCI_INDEX, 'busybox', 9000, { annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/busybox:latest' } })],
};

const ociManifest = { schemaVersion: 2, mediaType: M.OCI_MANIFEST, config: desc(M.OCI_CONFIG, 'c', 10), layers: [] };

interface Case {
  name: string;
  doc: unknown;
  options?: ParseManifestOptions;
  code?: string;
  field?: string;
}

const VALID: Case[] = [
  { name: 'an OCI index with platforms (variant, os.version, os.features)', doc: ociIndex },
  { name: 'a Docker manifest list with platform features', doc: dockerList },
  { name: 'an OCI layout index.json without mediaType', doc: layoutIndex },
  {
    name: 'an index without mediaType when the descriptor says OCI index',
    doc: edit(ociIndex, ['mediaType'], DELETE),
    options: { expected: { mediaType: M.OCI_INDEX } },
  },
  {
    name: 'entries of unknown, well-formed media types (cache configs, artifacts)',
    doc: edit(dockerList, ['manifests', 1], desc('application/vnd.buildkit.cacheconfig.v0', 'cache', 77)),
  },
  {
    name: 'an empty index with artifactType, subject and annotations',
    doc: {
      schemaVersion: 2,
      mediaType: M.OCI_INDEX,
      artifactType: 'application/vnd.example',
      manifests: [],
      subject: desc(M.OCI_INDEX, 's', 1),
      annotations: { a: 'b' },
    },
  },
];

const INVALID: Case[] = [
  {
    name: 'a platform without os',
    doc: edit(ociIndex, ['manifests', 0, 'platform', 'os'], DELETE),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[0].platform.os',
  },
  {
    name: 'a numeric architecture',
    doc: edit(ociIndex, ['manifests', 1, 'platform', 'architecture'], 64),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[1].platform.architecture',
  },
  {
    name: 'a numeric os.version',
    doc: edit(ociIndex, ['manifests', 2, 'platform', 'os.version'], 10),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[2].platform["os.version"]',
  },
  {
    name: 'os.features not an array',
    doc: edit(ociIndex, ['manifests', 2, 'platform', 'os.features'], 'win32k'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[2].platform["os.features"]',
  },
  {
    name: 'a numeric variant',
    doc: edit(ociIndex, ['manifests', 1, 'platform', 'variant'], 7),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[1].platform.variant',
  },
  {
    name: 'a platform that is a string',
    doc: edit(ociIndex, ['manifests', 0, 'platform'], 'linux/amd64'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[0].platform',
  },
  { name: 'no manifests', doc: edit(ociIndex, ['manifests'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'manifests' },
  { name: 'manifests an object', doc: edit(ociIndex, ['manifests'], {}), code: 'ERR_INVALID_MANIFEST', field: 'manifests' },
  {
    name: 'an entry with a bad digest',
    doc: edit(ociIndex, ['manifests', 3, 'digest'], 'sha256:zz'),
    code: 'ERR_INVALID_DIGEST',
    field: 'manifests[3].digest',
  },
  { name: 'an entry of size 2^53', doc: edit(ociIndex, ['manifests', 0, 'size'], 2 ** 53), code: 'ERR_INVALID_MANIFEST', field: 'manifests[0].size' },
  {
    name: 'an entry with a malformed mediaType',
    doc: edit(ociIndex, ['manifests', 0, 'mediaType'], 'oci manifest'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'manifests[0].mediaType',
  },
  { name: 'an index that also has config', doc: edit(ociIndex, ['config'], desc(M.OCI_CONFIG, 'c', 1)), code: 'ERR_INVALID_MANIFEST', field: 'config' },
  { name: 'an index that also has layers', doc: edit(ociIndex, ['layers'], []), code: 'ERR_INVALID_MANIFEST', field: 'layers' },
  { name: 'a manifest mediaType', doc: ociManifest, code: 'ERR_UNSUPPORTED_MEDIA_TYPE', field: 'mediaType' },
  {
    name: 'a manifest descriptor',
    doc: ociIndex,
    options: { expected: { mediaType: M.OCI_MANIFEST } },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'expected.mediaType',
  },
  {
    name: 'an OCI index fetched through a Docker list descriptor',
    doc: ociIndex,
    options: { expected: { mediaType: M.DOCKER_MANIFEST_LIST } },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
    field: 'mediaType',
  },
  {
    name: 'a manifest-shaped body without mediaType and an index descriptor',
    doc: edit(ociManifest, ['mediaType'], DELETE),
    options: { expected: { mediaType: M.OCI_INDEX } },
    code: 'ERR_MEDIA_TYPE_MISMATCH',
  },
  { name: 'schemaVersion 1', doc: edit(ociIndex, ['schemaVersion'], 1), code: 'ERR_SCHEMA1_UNSUPPORTED' },
];

describe('oci/parse-manifest: parseIndex', () => {
  for (const c of VALID) {
    it(`accepts ${c.name}`, () => {
      expect(parseIndex(body(c.doc), c.options)).to.deep.equal(c.doc);
    });
  }
  for (const c of INVALID) {
    it(`refuses ${c.name} with ${c.code}${c.field === undefined ? '' : ` at ${c.field}`}`, () => {
      expectError(() => parseIndex(body(c.doc), c.options), c.code as string, c.field);
    });
  }

  it('returns the platform of each entry', () => {
    const index = parseIndex(Buffer.from(JSON.stringify(ociIndex)));
    expect(index.manifests.map((m) => m.platform?.variant ?? m.platform?.['os.version'] ?? m.platform?.architecture)).to.deep.equal([
      'amd64',
      'v7',
      '10.0.17763.1040',
      'unknown',
    ]);
  });
});

describe('oci/parse-manifest: parseManifestOrIndex', () => {
  const KIND_CASES: { name: string; doc: unknown; options?: ParseManifestOptions; kind: 'manifest' | 'index'; mediaType: string }[] = [
    { name: 'an OCI index', doc: ociIndex, kind: 'index', mediaType: M.OCI_INDEX },
    { name: 'a Docker list', doc: dockerList, kind: 'index', mediaType: M.DOCKER_MANIFEST_LIST },
    { name: 'an OCI manifest', doc: ociManifest, kind: 'manifest', mediaType: M.OCI_MANIFEST },
    {
      name: 'a manifest without mediaType, by descriptor',
      doc: edit(ociManifest, ['mediaType'], DELETE),
      options: { expected: { mediaType: M.OCI_MANIFEST } },
      kind: 'manifest',
      mediaType: M.OCI_MANIFEST,
    },
    { name: 'an index without mediaType, by shape', doc: layoutIndex, kind: 'index', mediaType: M.OCI_INDEX },
    { name: 'a manifest without mediaType, by shape', doc: edit(ociManifest, ['mediaType'], DELETE), kind: 'manifest', mediaType: M.OCI_MANIFEST },
    {
      name: 'a Docker list with a matching descriptor',
      doc: dockerList,
      options: { expected: { mediaType: M.DOCKER_MANIFEST_LIST } },
      kind: 'index',
      mediaType: M.DOCKER_MANIFEST_LIST,
    },
  ];
  for (const c of KIND_CASES) {
    it(`classifies ${c.name} as ${c.kind} (${c.mediaType})`, () => {
      const parsed = parseManifestOrIndex(body(c.doc), c.options);
      expect(parsed.kind).to.equal(c.kind);
      expect(parsed.mediaType).to.equal(c.mediaType);
      expect(parsed.kind === 'index' ? parsed.index : parsed.manifest).to.deep.equal(c.doc);
    });
  }

  const BAD: Case[] = [
    {
      name: 'a descriptor of another type',
      doc: ociIndex,
      options: { expected: { mediaType: 'application/octet-stream' } },
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      field: 'expected.mediaType',
    },
    { name: 'a config mediaType', doc: edit(ociManifest, ['mediaType'], M.OCI_CONFIG), code: 'ERR_UNSUPPORTED_MEDIA_TYPE', field: 'mediaType' },
    {
      name: 'an index body and a manifest descriptor',
      doc: ociIndex,
      options: { expected: { mediaType: M.OCI_MANIFEST } },
      code: 'ERR_MEDIA_TYPE_MISMATCH',
      field: 'mediaType',
    },
    {
      name: 'an index-shaped body and a manifest descriptor',
      doc: layoutIndex,
      options: { expected: { mediaType: M.DOCKER_MANIFEST } },
      code: 'ERR_MEDIA_TYPE_MISMATCH',
    },
    { name: 'a signed schema 1 manifest', doc: { schemaVersion: 1, signatures: [] }, code: 'ERR_SCHEMA1_UNSUPPORTED' },
    { name: 'an ambiguous body', doc: { schemaVersion: 2, manifests: [], layers: [] }, code: 'ERR_INVALID_MANIFEST' },
    {
      name: 'an image with an unknown layer type',
      doc: edit(ociManifest, ['layers'], [desc('application/x-foo', 'x', 1)]),
      code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      field: 'layers[0].mediaType',
    },
    {
      name: 'an index with a bad platform',
      doc: edit(ociIndex, ['manifests', 0, 'platform', 'os'], null),
      code: 'ERR_INVALID_MANIFEST',
      field: 'manifests[0].platform.os',
    },
  ];
  for (const c of BAD) {
    it(`refuses ${c.name} with ${c.code}`, () => {
      expectError(() => parseManifestOrIndex(body(c.doc), c.options), c.code as string, c.field);
    });
  }

  it('passes strictMediaTypes through to manifests', () => {
    const doc = edit(ociManifest, ['layers'], [desc('application/x-foo', 'x', 1)]);
    expect(parseManifestOrIndex(body(doc), { strictMediaTypes: false }).kind).to.equal('manifest');
  });
});
