import { expect } from 'chai';
import { fromDate, toDate } from '../../../lib/containerd/convert.js';
import { Timestamp } from '../../../lib/gen/google/protobuf/timestamp.js';
import { dateToTimestamp, timestampToDate } from '../../../lib/shim/convert.js';
import { GO_ZERO_TIME_SECONDS, dateToTimestamp as utilDateToTimestamp, timestampToDate as utilTimestampToDate } from '../../../lib/util/timestamp.js';

// Pairs per google.protobuf.Timestamp: seconds round down, nanos are 0..999,999,999 and count forwards.
const cases: Array<{ ms: number; seconds: bigint; nanos: number }> = [
  { ms: -1500, seconds: -2n, nanos: 500_000_000 },
  { ms: -1, seconds: -1n, nanos: 999_000_000 },
  { ms: 0, seconds: 0n, nanos: 0 },
  { ms: 1, seconds: 0n, nanos: 1_000_000 },
  { ms: Date.UTC(1969, 6, 20, 20, 17, 40, 123), seconds: -14182940n, nanos: 123_000_000 },
  { ms: 8_640_000_000_000_000, seconds: 8_640_000_000_000n, nanos: 0 }, // Date's largest
  { ms: Date.UTC(9999, 11, 31, 23, 59, 59, 999), seconds: 253402300799n, nanos: 999_000_000 }, // the spec's largest
];

describe('util/timestamp: protobuf Timestamp ↔ Date', () => {
  // The shim's and containerd's names are the same functions, so both parts agree by construction.
  const pairs = [
    { name: 'util', toDateFn: utilTimestampToDate, fromDateFn: utilDateToTimestamp },
    { name: 'shim/convert', toDateFn: timestampToDate, fromDateFn: dateToTimestamp },
    { name: 'containerd/convert', toDateFn: toDate, fromDateFn: fromDate },
  ];
  for (const { name, toDateFn, fromDateFn } of pairs) {
    describe(name, () => {
      for (const c of cases) {
        it(`${c.ms} ms ↔ { seconds: ${c.seconds}, nanos: ${c.nanos} } through the wire encoding`, () => {
          const ts = fromDateFn(new Date(c.ms));
          expect(ts).to.deep.equal({ seconds: c.seconds, nanos: c.nanos });
          const decoded = Timestamp.decode(Timestamp.encode(ts).finish());
          expect(toDateFn(decoded)?.getTime()).to.equal(c.ms);
        });
      }

      it('truncates sub-millisecond nanos towards the past, before 1970 too', () => {
        expect(toDateFn({ seconds: -1n, nanos: 999_999_999 })?.getTime()).to.equal(-1);
        expect(toDateFn({ seconds: -2n, nanos: 500_000_001 })?.getTime()).to.equal(-1500);
        expect(toDateFn({ seconds: 1n, nanos: 1 })?.getTime()).to.equal(1000);
      });

      it("reads absent, Go's zero time and out-of-range values as undefined", () => {
        expect(toDateFn(undefined)).to.equal(undefined);
        expect(toDateFn({ seconds: GO_ZERO_TIME_SECONDS, nanos: 0 })).to.equal(undefined);
        expect(toDateFn({ seconds: GO_ZERO_TIME_SECONDS + 1n, nanos: 0 })?.toISOString()).to.equal('0001-01-01T00:00:01.000Z');
        expect(toDateFn({ seconds: 2n ** 62n, nanos: 0 })).to.equal(undefined);
      });

      it('rejects an invalid Date with ERR_INVALID_ARGUMENT', () => {
        expect(() => fromDateFn(new Date(NaN)))
          .to.throw()
          .with.property('code', 'ERR_INVALID_ARGUMENT');
      });
    });
  }
});
