// The root export is the Engine-level API: `Engine`, the types its methods take and return, the registry client it
// pulls with and the errors it throws. Each part's own names live in its subpath. Adding a name here is a decision:
// this list makes it one.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect } from 'chai';

const VALUES = [
  'AlreadyExistsError',
  'ConflictError',
  'ContainerkitError',
  'Engine',
  'FailedPreconditionError',
  'InternalError',
  'InvalidArgumentError',
  'NotFoundError',
  'PermissionDeniedError',
  'RegistryClient',
  'RegistryError',
  'UnavailableError',
  'isAbortError',
  'isErrorCode',
];

const TYPES = [
  'ContainerHandle',
  'ContainerInput',
  'ContainerInspect',
  'ContainerMount',
  'ContainerResources',
  'ContainerStats',
  'ContainerSummary',
  'CreateOptions',
  'Descriptor',
  'Digest',
  'EngineCreateOptions',
  'EngineEvent',
  'EngineEvents',
  'EngineEventsOptions',
  'EngineLogsOptions',
  'EngineOptions',
  'ErrorCategory',
  'ErrorCode',
  'ExecOptions',
  'ExecResult',
  'ExecStream',
  'ExecStreamOptions',
  'ExportArchiveOptions',
  'ImageConfig',
  'ImageRemoval',
  'ImportArchiveOptions',
  'ImportArchiveResult',
  'InspectedImage',
  'ListFilters',
  'ListOptions',
  'LogEntry',
  'NamedImage',
  'Platform',
  'PortBinding',
  'PullProgress',
  'RecoveryReport',
  'RegistryClientOptions',
  'RemoveOptions',
  'RunOptions',
  'RunResult',
  'RunnableImage',
  'Snapshotter',
  'SnapshotterChoice',
  'StopOptions',
  'TopResult',
  'UpdateResources',
  'WaitCondition',
  'WaitOptions',
];

describe('root export (containerkit)', () => {
  it('exports exactly the pinned values at runtime', async () => {
    const root = await import('../../lib/index.js');
    expect(Object.keys(root).sort()).to.deep.equal([...VALUES].sort());
  });

  it('names exactly the pinned values and types in lib/index.ts, each once, none through export *', async () => {
    const source = await readFile(resolve(import.meta.dirname, '..', '..', 'lib', 'index.ts'), 'utf8');
    expect(source).to.not.match(/export \*/);
    const values: string[] = [];
    const types: string[] = [];
    for (const [, typeOnly, body] of source.matchAll(/export (type )?\{([^}]*)\}/g)) {
      for (const raw of body!.split(',')) {
        const name = raw.trim();
        if (name === '') continue;
        (typeOnly !== undefined || name.startsWith('type ') ? types : values).push(name.replace(/^type /, ''));
      }
    }
    expect(values.sort()).to.deep.equal([...VALUES].sort());
    expect(types.sort()).to.deep.equal([...TYPES].sort());
  });
});
