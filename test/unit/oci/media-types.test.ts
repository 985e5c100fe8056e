import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { isImageManifest } from '../../../lib/oci/manifest.js';
import {
  isConfigMediaType,
  isForeignLayer,
  isIndexMediaType,
  isKnownMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableLayer,
  isSchema1MediaType,
  isWellFormedMediaType,
  type LayerCompression,
  layerCompression,
  MANIFEST_ACCEPT,
  MANIFEST_ACCEPT_HEADER,
  MEDIA_TYPES,
} from '../../../lib/oci/media-types.js';

type Role = 'index' | 'manifest' | 'config' | 'layer' | 'schema1' | 'empty';

interface Row {
  mediaType: string;
  role: Role;
  compression?: LayerCompression;
  nonDistributable?: boolean;
}

// Every known media type with its expected classification. The wire strings are spelled out here on purpose, so a
// typo in MEDIA_TYPES cannot pass.
const ROWS: Row[] = [
  { mediaType: 'application/vnd.oci.image.index.v1+json', role: 'index' },
  { mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', role: 'index' },
  { mediaType: 'application/vnd.oci.image.manifest.v1+json', role: 'manifest' },
  { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', role: 'manifest' },
  { mediaType: 'application/vnd.oci.image.config.v1+json', role: 'config' },
  { mediaType: 'application/vnd.docker.container.image.v1+json', role: 'config' },
  { mediaType: 'application/vnd.oci.empty.v1+json', role: 'empty' },
  { mediaType: 'application/vnd.oci.image.layer.v1.tar', role: 'layer', compression: 'none' },
  { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', role: 'layer', compression: 'gzip' },
  { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', role: 'layer', compression: 'zstd' },
  { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar', role: 'layer', compression: 'none', nonDistributable: true },
  { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', role: 'layer', compression: 'gzip', nonDistributable: true },
  { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', role: 'layer', compression: 'zstd', nonDistributable: true },
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar', role: 'layer', compression: 'none' },
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', role: 'layer', compression: 'gzip' },
  { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.zstd', role: 'layer', compression: 'zstd' },
  { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar', role: 'layer', compression: 'none', nonDistributable: true },
  { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', role: 'layer', compression: 'gzip', nonDistributable: true },
  { mediaType: 'application/vnd.docker.distribution.manifest.v1+json', role: 'schema1' },
  { mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws', role: 'schema1' },
];

const UNKNOWN = [
  'application/octet-stream',
  'application/json',
  'application/vnd.oci.image.layer.v1.tar+lz4',
  'application/vnd.oci.image.layer.v1.tar+gzip+encrypted',
  'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  'APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON',
  'application/vnd.oci.image.manifest.v1+json; charset=utf-8',
  '',
];

describe('oci/media-types', () => {
  it('MEDIA_TYPES lists exactly the table above', () => {
    expect(Object.values(MEDIA_TYPES)).to.have.members(ROWS.map((r) => r.mediaType));
    expect(Object.values(MEDIA_TYPES)).to.have.length(ROWS.length);
  });

  for (const row of ROWS) {
    it(`classifies ${row.mediaType} as ${row.role}`, () => {
      const t = row.mediaType;
      expect(isKnownMediaType(t)).to.equal(true);
      expect(isWellFormedMediaType(t)).to.equal(true);
      expect(isIndexMediaType(t)).to.equal(row.role === 'index');
      expect(isManifestMediaType(t)).to.equal(row.role === 'manifest');
      expect(isConfigMediaType(t)).to.equal(row.role === 'config');
      expect(isLayerMediaType(t)).to.equal(row.role === 'layer');
      expect(isSchema1MediaType(t)).to.equal(row.role === 'schema1');
      expect(isNonDistributableLayer(t)).to.equal(row.nonDistributable === true);
      expect(isForeignLayer(t)).to.equal(row.nonDistributable === true);
      if (row.role === 'layer') expect(layerCompression(t)).to.equal(row.compression);
      else
        expect(() => layerCompression(t))
          .to.throw(ContainerkitError)
          .with.property('code', 'ERR_UNSUPPORTED_MEDIA_TYPE');
    });
  }

  for (const t of UNKNOWN) {
    it(`knows nothing of ${JSON.stringify(t)}`, () => {
      expect(isKnownMediaType(t)).to.equal(false);
      for (const check of [isIndexMediaType, isManifestMediaType, isConfigMediaType, isLayerMediaType, isSchema1MediaType, isNonDistributableLayer]) {
        expect(check(t), check.name).to.equal(false);
      }
      expect(() => layerCompression(t))
        .to.throw(ContainerkitError)
        .with.property('code', 'ERR_UNSUPPORTED_MEDIA_TYPE');
    });
  }

  it('MANIFEST_ACCEPT prefers OCI index, then OCI manifest, Docker list, Docker schema 2, and leaves schema 1 out', () => {
    expect(MANIFEST_ACCEPT).to.deep.equal([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(Object.isFrozen(MANIFEST_ACCEPT)).to.equal(true);
    expect(MANIFEST_ACCEPT_HEADER).to.equal(MANIFEST_ACCEPT.join(', '));
    expect(MANIFEST_ACCEPT.some((t) => isSchema1MediaType(t))).to.equal(false);
  });

  const SYNTAX: [unknown, boolean][] = [
    ['application/vnd.example+json', true],
    ['text/plain', true],
    ['a/b', true],
    ['application/vnd.cncf.helm.config.v1+json', true],
    ['application', false],
    ['application/', false],
    ['/json', false],
    ['application/json; charset=utf-8', false],
    ['application/js on', false],
    ['application/-json', false],
    ['application/json/extra', false],
    [`application/${'x'.repeat(127)}`, true],
    [`application/${'x'.repeat(128)}`, false],
    [42, false],
    [null, false],
  ];
  for (const [value, ok] of SYNTAX) {
    it(`isWellFormedMediaType(${JSON.stringify(value)?.slice(0, 40)}) is ${ok}`, () => {
      expect(isWellFormedMediaType(value)).to.equal(ok);
    });
  }

  it('isImageManifest: image config and no artifactType means image; anything else is an artifact', () => {
    const cfg = (mediaType: string) => ({ mediaType, digest: `sha256:${'a'.repeat(64)}`, size: 2 }) as never;
    expect(isImageManifest({ config: cfg(MEDIA_TYPES.OCI_CONFIG) })).to.equal(true);
    expect(isImageManifest({ config: cfg(MEDIA_TYPES.DOCKER_CONFIG) })).to.equal(true);
    expect(isImageManifest({ config: cfg(MEDIA_TYPES.OCI_CONFIG), artifactType: 'application/vnd.example' })).to.equal(false);
    expect(isImageManifest({ config: cfg(MEDIA_TYPES.OCI_EMPTY), artifactType: 'application/vnd.example' })).to.equal(false);
    expect(isImageManifest({ config: cfg('application/vnd.cncf.helm.config.v1+json') })).to.equal(false);
  });
});
