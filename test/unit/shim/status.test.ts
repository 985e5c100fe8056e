import { expect } from 'chai';
import { ERROR_CODES, newError } from '../../../lib/errors/index.js';
import { errorToStatus, GrpcCode, statusToError } from '../../../lib/shim/index.js';

describe('shim/ttrpc status ↔ errors', () => {
  const call = { service: 'containerd.task.v2.Task', method: 'Kill' };

  it('maps gRPC codes to typed errors and categories', () => {
    const table: Array<[number, string, string]> = [
      [GrpcCode.NOT_FOUND, 'ERR_TTRPC_NOT_FOUND', 'NotFound'],
      [GrpcCode.ALREADY_EXISTS, 'ERR_TTRPC_ALREADY_EXISTS', 'AlreadyExists'],
      [GrpcCode.FAILED_PRECONDITION, 'ERR_TTRPC_FAILED_PRECONDITION', 'FailedPrecondition'],
      [GrpcCode.INVALID_ARGUMENT, 'ERR_TTRPC_INVALID_ARGUMENT', 'InvalidArgument'],
      [GrpcCode.OUT_OF_RANGE, 'ERR_TTRPC_INVALID_ARGUMENT', 'InvalidArgument'],
      [GrpcCode.UNAVAILABLE, 'ERR_TTRPC_UNAVAILABLE', 'Unavailable'],
      [GrpcCode.PERMISSION_DENIED, 'ERR_TTRPC_PERMISSION_DENIED', 'PermissionDenied'],
      [GrpcCode.UNAUTHENTICATED, 'ERR_TTRPC_PERMISSION_DENIED', 'PermissionDenied'],
      [GrpcCode.UNIMPLEMENTED, 'ERR_TTRPC_UNIMPLEMENTED', 'FailedPrecondition'],
      [GrpcCode.DEADLINE_EXCEEDED, 'ERR_DEADLINE_EXCEEDED', 'Unavailable'],
      [GrpcCode.ABORTED, 'ERR_TTRPC_ABORTED', 'Conflict'],
      [GrpcCode.INTERNAL, 'ERR_TTRPC_INTERNAL', 'Internal'],
      [GrpcCode.UNKNOWN, 'ERR_TTRPC_INTERNAL', 'Internal'],
      [99, 'ERR_TTRPC_INTERNAL', 'Internal'],
    ];
    for (const [grpc, code, category] of table) {
      const err = statusToError({ code: grpc, message: 'boom' }, call);
      expect([err.code, err.category], String(grpc)).to.deep.equal([code, category]);
      expect(ERROR_CODES[err.code]).to.equal(category);
      const transport = code === 'ERR_DEADLINE_EXCEEDED' ? { transport: 'ttrpc' } : {};
      expect(err.details).to.deep.equal({ ...transport, grpcCode: grpc, grpcMessage: 'boom', ...call });
      expect(err.message).to.equal('containerd.task.v2.Task/Kill: boom');
    }
  });

  it('maps handler errors to statuses by category, keeping an original gRPC code', () => {
    expect(errorToStatus(newError('ERR_NOT_FOUND', 'nope'))).to.deep.equal({ code: 5, message: 'nope' });
    expect(errorToStatus(newError('ERR_INVALID_ARGUMENT', 'bad')).code).to.equal(3);
    expect(errorToStatus(newError('ERR_CORRUPT_FILE', 'x')).code).to.equal(9);
    expect(errorToStatus(statusToError({ code: 16, message: 'who' }, call)).code).to.equal(16);
    expect(errorToStatus(new Error('plain'))).to.deep.equal({ code: 2, message: 'plain' });
  });
});
