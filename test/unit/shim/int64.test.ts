import { expect } from 'chai';
import { StateResponse } from '../../../lib/gen/containerd/runtime/task/v2/shim.js';
import { Timestamp } from '../../../lib/gen/google/protobuf/timestamp.js';
import { dateToTimestamp, GO_ZERO_TIME_SECONDS, timestampToDate } from '../../../lib/shim/convert.js';

describe('shim: int64 fields and timestamps', () => {
  it("decodes Go's zero time from the shim's exact bytes (a 10-byte negative varint) without precision loss", () => {
    const bytes = Buffer.from('08 80 92 b8 c3 98 fe ff ff ff 01'.replace(/ /g, ''), 'hex');
    const ts = Timestamp.decode(bytes);
    expect(ts.seconds).to.equal(-62135596800n);
    expect(ts.seconds).to.equal(GO_ZERO_TIME_SECONDS);
    expect(Buffer.from(Timestamp.encode(ts).finish()).equals(bytes)).to.equal(true);
  });

  it('round-trips the int64 extremes and small negatives exactly', () => {
    for (const seconds of [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 1n, 2n ** 53n + 1n]) {
      expect(Timestamp.decode(Timestamp.encode({ seconds, nanos: 0 }).finish()).seconds).to.equal(seconds);
    }
  });

  it('maps a State answer with the zero exit time to "not exited"', () => {
    const wire = StateResponse.encode(StateResponse.fromPartial({ id: 'c', status: 2, exitedAt: { seconds: GO_ZERO_TIME_SECONDS, nanos: 0 } })).finish();
    expect(timestampToDate(StateResponse.decode(wire).exitedAt)).to.equal(undefined);
  });

  it('converts timestamps to Dates: absent → undefined, pre-epoch negatives exact to the millisecond, out of range → undefined', () => {
    expect(timestampToDate(undefined)).to.equal(undefined);
    expect(timestampToDate({ seconds: -1n, nanos: 500_000_000 })!.getTime()).to.equal(-500);
    expect(timestampToDate({ seconds: 0n, nanos: 0 })!.getTime()).to.equal(0);
    expect(timestampToDate({ seconds: 1795834232n, nanos: 228324370 })!.toISOString()).to.equal('2026-11-28T02:50:32.228Z');
    expect(timestampToDate({ seconds: GO_ZERO_TIME_SECONDS + 1n, nanos: 0 })!.getUTCFullYear()).to.equal(1);
    expect(timestampToDate({ seconds: 2n ** 62n, nanos: 0 })).to.equal(undefined);
    expect(dateToTimestamp(new Date(-1500))).to.deep.equal({ seconds: -2n, nanos: 500_000_000 });
  });
});
