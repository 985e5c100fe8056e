import { expect } from 'chai';
import { fromDate, fromDescriptor, fromMount, jsonAny, toDate, toDescriptor, toMount, toNumber } from '../../../lib/containerd/convert.js';
import { grpcStatusToError } from '../../../lib/containerd/errors.js';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from '../../../lib/errors/index.js';
import type { Digest } from '../../../lib/oci/digest.js';

describe('containerd convert', () => {
  it('maps timestamps to dates and back, treating Go zero time as unset', () => {
    const d = new Date('2024-05-06T07:08:09.123Z');
    const ts = fromDate(d);
    expect(ts).to.deep.equal({ seconds: BigInt(Math.floor(d.getTime() / 1000)), nanos: 123_000_000 });
    expect(toDate(ts)?.toISOString()).to.equal(d.toISOString());
    expect(toDate({ seconds: -62135596800n, nanos: 0 })).to.equal(undefined);
    expect(toDate(undefined)).to.equal(undefined);
  });

  it('converts int64 to number and refuses values past 2^53', () => {
    expect(toNumber(42n)).to.equal(42);
    expect(() => toNumber(2n ** 60n))
      .to.throw()
      .with.property('code', 'ERR_CONTAINERD_INTERNAL');
  });

  it('round-trips descriptors and mounts', () => {
    const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}` as Digest, size: 12, annotations: { k: 'v' } };
    expect(toDescriptor(fromDescriptor(desc))).to.deep.equal(desc);
    const bare = { ...desc, annotations: undefined };
    delete bare.annotations;
    expect(toDescriptor(fromDescriptor(bare))).to.deep.equal(bare);
    const mount = { type: 'overlay', source: 'overlay', options: ['lowerdir=/a', 'upperdir=/b'] };
    expect(toMount(fromMount(mount))).to.deep.equal(mount);
    expect(fromMount(mount).target).to.equal('');
  });

  it('carries JSON documents in an Any', () => {
    const any = jsonAny('types.containerd.io/opencontainers/runtime-spec/1/Spec', { ociVersion: '1.0.2' });
    expect(JSON.parse(Buffer.from(any.value).toString())).to.deep.equal({ ociVersion: '1.0.2' });
  });
});

describe('containerd gRPC status → typed errors', () => {
  const cases: Array<[number, string, new (...a: never[]) => Error]> = [
    [5, 'ERR_CONTAINERD_NOT_FOUND', NotFoundError],
    [6, 'ERR_CONTAINERD_ALREADY_EXISTS', AlreadyExistsError],
    [3, 'ERR_CONTAINERD_INVALID_ARGUMENT', InvalidArgumentError],
    [11, 'ERR_CONTAINERD_INVALID_ARGUMENT', InvalidArgumentError],
    [9, 'ERR_CONTAINERD_FAILED_PRECONDITION', FailedPreconditionError],
    [12, 'ERR_CONTAINERD_UNIMPLEMENTED', FailedPreconditionError],
    [14, 'ERR_CONTAINERD_UNAVAILABLE', UnavailableError],
    [4, 'ERR_DEADLINE_EXCEEDED', UnavailableError],
    [7, 'ERR_CONTAINERD_PERMISSION_DENIED', PermissionDeniedError],
    [16, 'ERR_CONTAINERD_PERMISSION_DENIED', PermissionDeniedError],
    [10, 'ERR_CONTAINERD_CONFLICT', ConflictError],
    [13, 'ERR_CONTAINERD_INTERNAL', InternalError],
    [2, 'ERR_CONTAINERD_INTERNAL', InternalError],
    [99, 'ERR_CONTAINERD_INTERNAL', InternalError],
  ];
  for (const [grpc, code, cls] of cases) {
    it(`gRPC ${grpc} → ${code}`, () => {
      const err = grpcStatusToError({ code: grpc, message: 'boom', method: '/x.Y/Z' });
      expect(err).to.be.instanceOf(cls);
      expect(err.code).to.equal(code);
      const transport = code === 'ERR_DEADLINE_EXCEEDED' ? { transport: 'grpc' } : {};
      expect(err.details).to.deep.equal({ ...transport, grpcCode: grpc, grpcMessage: 'boom', method: '/x.Y/Z' });
      expect(err.message).to.equal('containerd /x.Y/Z: boom');
    });
  }
});
