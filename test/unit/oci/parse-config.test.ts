import { expect } from 'chai';
import { MEDIA_TYPES as M } from '../../../lib/oci/media-types.js';
import { MAX_IMAGE_CONFIG_SIZE, type ParseImageConfigOptions, parseImageConfig } from '../../../lib/oci/parse.js';
import { body, DELETE, edit, expectError, sha } from './parse-helpers.js';

// The shape `docker build` writes: nulls for empty members, a healthcheck, Docker-only extra fields.
const dockerConfig = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-05-06T07:08:09.123456789Z',
  author: 'someone',
  docker_version: '24.0.7',
  config: {
    Hostname: '',
    User: '1000:1000',
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'],
    Entrypoint: null,
    Cmd: ['sh'],
    Volumes: { '/data': {} },
    WorkingDir: '/srv',
    Labels: { maintainer: 'x' },
    StopSignal: 'SIGQUIT',
    OnBuild: null,
    Shell: ['/bin/sh', '-c'],
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Timeout: 5_000_000_000, Retries: 3 },
    ArgsEscaped: true,
  },
  container_config: { Cmd: ['/bin/sh', '-c', '#(nop) CMD ["sh"]'] },
  rootfs: { type: 'layers', diff_ids: [sha('layer0'), sha('layer1')] },
  history: [
    { created: '2024-05-06T07:08:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
    { created: '2024-05-06T07:08:09+02:00', created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true },
    { created_by: 'RUN x', author: 'a', comment: 'buildkit.dockerfile.v0' },
  ],
};

const minimal = { architecture: 'arm64', os: 'linux', variant: 'v8', rootfs: { type: 'layers', diff_ids: [] } };

interface Case {
  name: string;
  doc: unknown;
  options?: ParseImageConfigOptions;
  code?: string;
  field?: string;
}

const VALID: Case[] = [
  { name: 'a Docker-built config with nulls, a healthcheck and extra fields', doc: dockerConfig },
  { name: 'a minimal OCI config', doc: minimal, options: { expected: { mediaType: M.OCI_CONFIG, size: JSON.stringify(minimal).length } } },
  { name: 'a Docker config by descriptor', doc: minimal, options: { expected: { mediaType: M.DOCKER_CONFIG } } },
  { name: 'nulls for every optional member', doc: { ...minimal, created: null, author: null, config: null, history: null, 'os.features': null } },
  { name: 'Windows os.version and os.features', doc: { ...minimal, os: 'windows', 'os.version': '10.0.20348.1', 'os.features': ['win32k'] } },
  { name: 'an empty config object', doc: { ...minimal, config: {} } },
];

const INVALID: Case[] = [
  { name: 'no architecture', doc: edit(dockerConfig, ['architecture'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'architecture' },
  { name: 'a null architecture', doc: edit(dockerConfig, ['architecture'], null), code: 'ERR_INVALID_MANIFEST', field: 'architecture' },
  { name: 'a numeric os', doc: edit(dockerConfig, ['os'], 1), code: 'ERR_INVALID_MANIFEST', field: 'os' },
  { name: 'no rootfs', doc: edit(dockerConfig, ['rootfs'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'rootfs' },
  { name: 'rootfs.type other than layers', doc: edit(dockerConfig, ['rootfs', 'type'], 'layered'), code: 'ERR_INVALID_MANIFEST', field: 'rootfs.type' },
  { name: 'no diff_ids', doc: edit(dockerConfig, ['rootfs', 'diff_ids'], DELETE), code: 'ERR_INVALID_MANIFEST', field: 'rootfs.diff_ids' },
  { name: 'diff_ids an object', doc: edit(dockerConfig, ['rootfs', 'diff_ids'], {}), code: 'ERR_INVALID_MANIFEST', field: 'rootfs.diff_ids' },
  { name: 'a bad diff ID', doc: edit(dockerConfig, ['rootfs', 'diff_ids', 1], 'sha256:abc'), code: 'ERR_INVALID_DIGEST', field: 'rootfs.diff_ids[1]' },
  { name: 'a created that is not RFC 3339', doc: edit(dockerConfig, ['created'], 'yesterday'), code: 'ERR_INVALID_MANIFEST', field: 'created' },
  { name: 'a numeric author', doc: edit(dockerConfig, ['author'], 5), code: 'ERR_INVALID_MANIFEST', field: 'author' },
  { name: 'a numeric os.version', doc: edit(minimal, ['os.version'], 10), code: 'ERR_INVALID_MANIFEST', field: '["os.version"]' },
  { name: 'config an array', doc: edit(dockerConfig, ['config'], []), code: 'ERR_INVALID_MANIFEST', field: 'config' },
  { name: 'Env a string', doc: edit(dockerConfig, ['config', 'Env'], 'A=1'), code: 'ERR_INVALID_MANIFEST', field: 'config.Env' },
  { name: 'a numeric Env entry', doc: edit(dockerConfig, ['config', 'Env', 1], 1), code: 'ERR_INVALID_MANIFEST', field: 'config.Env[1]' },
  { name: 'Cmd a string', doc: edit(dockerConfig, ['config', 'Cmd'], 'sh'), code: 'ERR_INVALID_MANIFEST', field: 'config.Cmd' },
  { name: 'Entrypoint an object', doc: edit(dockerConfig, ['config', 'Entrypoint'], {}), code: 'ERR_INVALID_MANIFEST', field: 'config.Entrypoint' },
  {
    name: 'ExposedPorts an array',
    doc: edit(dockerConfig, ['config', 'ExposedPorts'], ['80/tcp']),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.ExposedPorts',
  },
  {
    name: 'an ExposedPorts value that is not an object',
    doc: edit(dockerConfig, ['config', 'ExposedPorts', '80/tcp'], true),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.ExposedPorts["80/tcp"]',
  },
  {
    name: 'a Volumes value that is a string',
    doc: edit(dockerConfig, ['config', 'Volumes', '/data'], ''),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.Volumes["/data"]',
  },
  { name: 'a numeric label', doc: edit(dockerConfig, ['config', 'Labels', 'version'], 2), code: 'ERR_INVALID_MANIFEST', field: 'config.Labels.version' },
  { name: 'a numeric User', doc: edit(dockerConfig, ['config', 'User'], 1000), code: 'ERR_INVALID_MANIFEST', field: 'config.User' },
  { name: 'a numeric WorkingDir', doc: edit(dockerConfig, ['config', 'WorkingDir'], 0), code: 'ERR_INVALID_MANIFEST', field: 'config.WorkingDir' },
  { name: 'a numeric StopSignal', doc: edit(dockerConfig, ['config', 'StopSignal'], 15), code: 'ERR_INVALID_MANIFEST', field: 'config.StopSignal' },
  { name: 'ArgsEscaped a string', doc: edit(dockerConfig, ['config', 'ArgsEscaped'], 'true'), code: 'ERR_INVALID_MANIFEST', field: 'config.ArgsEscaped' },
  { name: 'Shell a string', doc: edit(dockerConfig, ['config', 'Shell'], '/bin/sh'), code: 'ERR_INVALID_MANIFEST', field: 'config.Shell' },
  {
    name: 'Healthcheck.Test a string',
    doc: edit(dockerConfig, ['config', 'Healthcheck', 'Test'], 'true'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.Healthcheck.Test',
  },
  {
    name: 'a negative Healthcheck.Interval',
    doc: edit(dockerConfig, ['config', 'Healthcheck', 'Interval'], -1),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.Healthcheck.Interval',
  },
  {
    name: 'a fractional Healthcheck.Retries',
    doc: edit(dockerConfig, ['config', 'Healthcheck', 'Retries'], 1.5),
    code: 'ERR_INVALID_MANIFEST',
    field: 'config.Healthcheck.Retries',
  },
  { name: 'history an object', doc: edit(dockerConfig, ['history'], {}), code: 'ERR_INVALID_MANIFEST', field: 'history' },
  { name: 'a history entry that is a string', doc: edit(dockerConfig, ['history', 0], 'ADD'), code: 'ERR_INVALID_MANIFEST', field: 'history[0]' },
  {
    name: 'a bad history date',
    doc: edit(dockerConfig, ['history', 1, 'created'], '2024-05-06 07:08:09'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'history[1].created',
  },
  {
    name: 'empty_layer a string',
    doc: edit(dockerConfig, ['history', 1, 'empty_layer'], 'true'),
    code: 'ERR_INVALID_MANIFEST',
    field: 'history[1].empty_layer',
  },
  { name: 'a numeric created_by', doc: edit(dockerConfig, ['history', 2, 'created_by'], 1), code: 'ERR_INVALID_MANIFEST', field: 'history[2].created_by' },
  { name: 'invalid JSON', doc: '{"architecture":', code: 'ERR_INVALID_MANIFEST' },
  { name: 'a JSON string', doc: '"config"', code: 'ERR_INVALID_MANIFEST' },
  {
    name: 'a manifest descriptor',
    doc: minimal,
    options: { expected: { mediaType: M.OCI_MANIFEST } },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'expected.mediaType',
  },
  {
    name: 'an artifact config descriptor',
    doc: minimal,
    options: { expected: { mediaType: M.OCI_EMPTY } },
    code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
    field: 'expected.mediaType',
  },
  { name: 'a size other than the descriptor’s', doc: minimal, options: { expected: { mediaType: M.OCI_CONFIG, size: 1 } }, code: 'ERR_SIZE_MISMATCH' },
  { name: 'a body over a custom maxSize', doc: dockerConfig, options: { maxSize: 64 }, code: 'ERR_MANIFEST_TOO_LARGE' },
  { name: 'a negative maxSize', doc: minimal, options: { maxSize: -1 }, code: 'ERR_INVALID_ARGUMENT' },
];

describe('oci/parse-config: parseImageConfig', () => {
  for (const c of VALID) {
    it(`accepts ${c.name}`, () => {
      expect(parseImageConfig(body(c.doc), c.options)).to.deep.equal(c.doc);
    });
  }
  for (const c of INVALID) {
    it(`refuses ${c.name} with ${c.code}${c.field === undefined ? '' : ` at ${c.field}`}`, () => {
      expectError(() => parseImageConfig(body(c.doc), c.options), c.code as string, c.field);
    });
  }

  it('returns typed members', () => {
    const config = parseImageConfig(Buffer.from(JSON.stringify(dockerConfig)));
    expect(config.rootfs.diff_ids).to.deep.equal([sha('layer0'), sha('layer1')]);
    expect(config.config?.Cmd).to.deep.equal(['sh']);
    expect(config.config?.Entrypoint).to.equal(null);
    expect(config.history?.[1]?.empty_layer).to.equal(true);
  });

  it('caps configs at 8 MiB, checked before decoding', () => {
    expect(MAX_IMAGE_CONFIG_SIZE).to.equal(8 * 1024 * 1024);
    expectError(() => parseImageConfig(Buffer.alloc(MAX_IMAGE_CONFIG_SIZE + 1, 0x5b)), 'ERR_MANIFEST_TOO_LARGE');
    const text = JSON.stringify(minimal);
    // Larger than the manifest cap, within the config cap.
    expect(parseImageConfig(text + ' '.repeat(5 * 1024 * 1024)).architecture).to.equal('arm64');
  });
});
