import { Readable } from 'node:stream';
import { expect } from 'chai';
import { decodeEvents, parseEventLine, parseStats } from '../../../lib/runtime/events.js';
import type { RuncEvent } from '../../../lib/runtime/types.js';
import { STATS_LINE, STOPPED_STATS_LINE } from './captured.js';

describe('runtime/events', () => {
  it('parses a captured stats line into camelCase numbers', () => {
    const event = parseEventLine(STATS_LINE.trim());
    expect(event.type).to.equal('stats');
    if (event.type !== 'stats') return;
    expect(event.id).to.equal('cap1');
    const { cpu, memory, pids, blkio, hugetlb, networkInterfaces } = event.stats;
    expect(cpu.usage.total).to.be.a('number').greaterThan(0);
    expect(cpu.usage.perCpu).to.have.length(cpu.usage.perCpuKernel.length);
    expect(cpu.usage.perCpu.reduce((a, b) => a + b, 0)).to.equal(cpu.usage.total);
    expect(cpu.throttling).to.deep.equal({ periods: 0, throttledPeriods: 0, throttledTime: 0 });
    expect(memory.usage.usage).to.be.greaterThan(0);
    expect(memory.usage.max).to.be.at.least(memory.usage.usage);
    // cgroup v1's "unlimited" (2^63 - 4096) is past 2^53: kept as an approximate number.
    expect(memory.usage.limit).to.be.greaterThan(2 ** 62);
    expect(memory.kernelTcp.failcnt).to.equal(0);
    expect(memory.raw.total_pgfault).to.be.a('number').greaterThan(0);
    expect(pids).to.deep.equal({ current: 1, limit: 0 });
    expect(blkio.ioServiceBytesRecursive).to.deep.equal([]);
    expect(hugetlb).to.deep.equal({});
    expect(networkInterfaces).to.deep.equal([]);
  });

  it("a stopped container's stats omit zeros; they read as 0", () => {
    const event = parseEventLine(STOPPED_STATS_LINE.trim());
    expect(event.type).to.equal('stats');
    if (event.type === 'stats') expect(event.stats.pids).to.deep.equal({ current: 0, limit: 0 });
  });

  it('maps blkio entries, hugetlb and network interfaces', () => {
    const stats = parseStats({
      blkio: { ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }], sectorsRecursive: [{ major: 8, minor: 1, op: 'Total', value: 8 }] },
      hugetlb: { '2MB': { failcnt: 0, usage: 2097152 } },
      network_interfaces: [{ Name: 'eth0', RxBytes: 100, TxBytes: 200, RxPackets: 1 }],
    });
    expect(stats.blkio.ioServiceBytesRecursive).to.deep.equal([{ major: 8, minor: 0, op: 'Read', value: 4096 }]);
    expect(stats.blkio.sectorsRecursive).to.deep.equal([{ major: 8, minor: 1, op: 'Total', value: 8 }]);
    expect(stats.hugetlb).to.deep.equal({ '2MB': { usage: 2097152, max: 0, failcnt: 0 } });
    expect(stats.networkInterfaces[0]).to.deep.equal({
      name: 'eth0',
      rxBytes: 100,
      rxPackets: 1,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: 200,
      txPackets: 0,
      txErrors: 0,
      txDropped: 0,
    });
  });

  it('oom, unknown types, and lines that are not events', () => {
    expect(parseEventLine('{"type":"oom","id":"c1"}')).to.deep.equal({ type: 'oom', id: 'c1' });
    expect(parseEventLine('{"type":"intel_rdt","id":"c1","data":{"x":1}}')).to.deep.equal({
      type: 'unknown',
      id: 'c1',
      eventType: 'intel_rdt',
      data: { x: 1 },
    });
    const bad = parseEventLine('{"type":"stats"');
    expect(bad.type).to.equal('error');
    if (bad.type === 'error') {
      expect(bad.line).to.equal('{"type":"stats"');
      expect((bad.error as { code?: string }).code).to.equal('ERR_RUNC_FAILED');
    }
    expect(parseEventLine('{"id":"c1"}').type).to.equal('error');
    const long = parseEventLine('x'.repeat(5000));
    if (long.type === 'error') expect(long.line).to.have.length(1024);
  });

  it('decodeEvents goes on after a bad line and skips blank ones', async () => {
    const input = Readable.from([`${STATS_LINE.trim()}\n\nnot json\n`, '{"type":"oom",', '"id":"cap1"}\n']);
    const events: RuncEvent[] = [];
    for await (const event of decodeEvents(input)) events.push(event);
    expect(events.map((e) => e.type)).to.deep.equal(['stats', 'error', 'oom']);
  });
});
