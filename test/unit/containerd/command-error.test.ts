import { expect } from 'chai';
import { commandError, grpcStatusToError } from '../../../lib/containerd/errors.js';
import { NotFoundError, PermissionDeniedError } from '../../../lib/errors/index.js';

// Tasks.Create failures as containerd 1.6 with runc 1.1 reports them (captured from a real daemon).
const created = (detail: string) =>
  grpcStatusToError({
    code: 2,
    message: `failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${detail}: unknown`,
    method: '/containerd.services.tasks.v1.Tasks/Create',
  });

describe('containerd commandError: runc exec failures as docker maps them', () => {
  it('a missing command (absolute, or not on $PATH) is ERR_CONTAINER_COMMAND_NOT_FOUND, naming it', () => {
    for (const [detail, command] of [
      ['exec: "/nonexistent": stat /nonexistent: no such file or directory', '/nonexistent'],
      ['exec: "nosuch": executable file not found in $PATH', 'nosuch'],
    ] as const) {
      const original = created(detail);
      const err = commandError(original);
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err).to.include({ code: 'ERR_CONTAINER_COMMAND_NOT_FOUND', cause: original });
      expect((err as NotFoundError).details).to.include({ command, method: '/containerd.services.tasks.v1.Tasks/Create', grpcCode: 2 });
      expect((err as NotFoundError).message).to.equal(`container command "${command}" not found: ${detail.slice(detail.indexOf('": ') + 3)}`);
    }
  });

  it('a file that cannot be executed is ERR_CONTAINER_COMMAND_NOT_EXECUTABLE', () => {
    const err = commandError(created('exec: "/etc/passwd": permission denied'));
    expect(err).to.be.instanceOf(PermissionDeniedError);
    expect(err).to.have.property('code', 'ERR_CONTAINER_COMMAND_NOT_EXECUTABLE');
    expect((err as PermissionDeniedError).message).to.equal('container command "/etc/passwd" cannot be executed: permission denied');
  });

  it('leaves other failures alone: ENOENT of a mount, other errors, foreign errors', () => {
    const mount = created('error during container init: error mounting "/nope" to rootfs at "/data": stat /nope: no such file or directory');
    expect(commandError(mount)).to.equal(mount);
    const other = created('exec: "/bin/sh": argument list too long');
    expect(commandError(other)).to.equal(other);
    const foreign = new Error('exec: "/x": no such file or directory');
    expect(commandError(foreign)).to.equal(foreign);
  });
});
