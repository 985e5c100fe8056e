import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv-draft-04';
import { expect } from 'chai';
import type { Spec } from '../../../lib/oci/runtime-spec.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withImageConfig } from '../../../lib/runtime/spec/opts-image.js';
import {
  withAnnotations,
  withCgroupsPath,
  withCPUShares,
  withCPUs,
  withHostname,
  withMemoryLimit,
  withNetNSPath,
  withPidsLimit,
} from '../../../lib/runtime/spec/opts-linux.js';
import { bindMount, tmpfsMount, withInit, withMounts, withReadonlyRootfs, withShmSize } from '../../../lib/runtime/spec/opts-mounts.js';
import { withAdditionalGids, withCwd, withEnv, withRlimits, withTTY, withUser } from '../../../lib/runtime/spec/opts-process.js';
import { withAddedCapabilities, withDroppedCapabilities, withPrivileged } from '../../../lib/runtime/spec/opts-security.js';
import { describeErrors, loadConfigValidator } from '../../fixtures/runtime-spec-schema/schema.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

// The generated config.json must be valid against the OCI runtime-spec's own JSON schema (draft-04), read from
// the installed Debian package (see test/fixtures/runtime-spec-schema/README.md).

describe('runtime/spec config.json against the OCI runtime-spec schema', () => {
  let validate: ValidateFunction;
  let rootfs: string;

  before(async () => {
    validate = loadConfigValidator();
    rootfs = await makeTempDir('spec-schema');
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nvideo:x:44:app\n');
  });

  after(async () => {
    await removeTempDir(rootfs);
  });

  /** Validates the document as runc would read it: after a JSON round trip. */
  function check(spec: Spec): void {
    const doc: unknown = JSON.parse(JSON.stringify(spec));
    expect(validate(doc), describeErrors(validate.errors)).to.equal(true);
  }

  it('the validator rejects what the schema forbids', async () => {
    const spec = JSON.parse(JSON.stringify(await generateSpec([], { hostRlimits: {} }))) as Record<string, any>;
    spec.process.cwd = 42;
    spec.linux.namespaces.push({ type: 'bogus' });
    expect(validate(spec)).to.equal(false);
    expect(describeErrors(validate.errors)).to.include('/process/cwd').and.include('/linux/namespaces/5');
  });

  it('the default spec is valid', async () => {
    check(await generateSpec([], { id: 'schema-default' }));
  });

  it('a spec with many options is valid', async () => {
    const spec = await generateSpec(
      [
        withImageConfig({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [] },
          config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['A=1'], WorkingDir: '/w', StopSignal: 'SIGTERM' },
        }),
        withUser('app'),
        withAdditionalGids(),
        withEnv(['B=2']),
        withCwd('/home/app'),
        withTTY(),
        withHostname('schema'),
        withMounts([bindMount('/srv', '/srv', { readonly: true, propagation: 'rprivate' }), tmpfsMount('/tmp', { size: 1 << 24 })]),
        withReadonlyRootfs(),
        withShmSize(128 << 20),
        withAddedCapabilities(['NET_ADMIN']),
        withDroppedCapabilities(['MKNOD']),
        withMemoryLimit(256 << 20),
        withCPUs(0.5),
        withCPUShares(256),
        withPidsLimit(64),
        withRlimits([
          { type: 'nofile', soft: 4096, hard: 1 << 30 },
          { type: 'core', soft: 0, hard: 0 },
        ]),
        withNetNSPath('/var/run/netns/schema'),
        withCgroupsPath('/containerkit/schema'),
        withAnnotations({ 'org.example.owner': 'tests' }),
        withInit(),
      ],
      { rootfs, id: 'schema-many' },
    );
    expect(spec.linux!.seccomp!.syscalls!.length).to.be.greaterThan(10);
    check(spec);
  });

  it('a privileged spec is valid', async () => {
    check(await generateSpec([withPrivileged()], { id: 'schema-privileged' }));
  });
});
