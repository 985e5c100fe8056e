import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { generateSpec } from '../../../lib/runtime/spec/generate.js';
import { withRlimits } from '../../../lib/runtime/spec/opts-process.js';
import { clampRlimits, normalizeRlimitType, parseProcLimits, readHostRlimits } from '../../../lib/runtime/spec/rlimits.js';

// As /proc/self/limits prints it (fs/proc/base.c: "%-25s %-20s %-20s %-10s").
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max processes             96365                96365                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
Max nice priority         0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

describe('runtime/spec rlimits', () => {
  it('parses /proc/<pid>/limits', () => {
    const host = parseProcLimits(LIMITS);
    expect(host.RLIMIT_NOFILE).to.deep.equal({ soft: 20000, hard: 20000 });
    expect(host.RLIMIT_STACK).to.deep.equal({ soft: 8388608, hard: Infinity });
    expect(host.RLIMIT_CPU).to.deep.equal({ soft: Infinity, hard: Infinity });
    expect(host.RLIMIT_NICE).to.deep.equal({ soft: 0, hard: 0 });
    expect(host.RLIMIT_RTTIME).to.deep.equal({ soft: Infinity, hard: Infinity });
    expect(Object.keys(host)).to.have.length(8);
  });

  it('reads this process’s limits', async () => {
    const host = await readHostRlimits();
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))!;
    expect(host.RLIMIT_NOFILE!.hard).to.equal(Number(line.slice(26).trim().split(/\s+/)[1]));
  });

  it('clamps hard limits to the host’s and soft limits to the hard one', () => {
    const host = parseProcLimits(LIMITS);
    expect(
      clampRlimits(
        [
          { type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 },
          { type: 'RLIMIT_NPROC', soft: 500, hard: 1000 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
          { type: 'RLIMIT_MEMLOCK', soft: Infinity, hard: Infinity },
          { type: 'RLIMIT_CPU', soft: 10, hard: Infinity },
        ],
        host,
      ),
    ).to.deep.equal([
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
      { type: 'RLIMIT_NPROC', soft: 500, hard: 1000 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      { type: 'RLIMIT_MEMLOCK', soft: 8388608, hard: 8388608 },
    ]);
  });

  it('clamps a requested nofile above the host hard limit in generateSpec', async () => {
    const hard = (await readHostRlimits()).RLIMIT_NOFILE!.hard;
    const spec = await generateSpec([withRlimits([{ type: 'nofile', soft: 1048576, hard: 1048576 }])]);
    expect(spec.process!.rlimits).to.deep.equal([{ type: 'RLIMIT_NOFILE', soft: Math.min(hard, 1048576), hard: Math.min(hard, 1048576) }]);
    const injected = await generateSpec([withRlimits([{ type: 'NOFILE', soft: 4096, hard: 65536 }])], {
      hostRlimits: { RLIMIT_NOFILE: { soft: 1024, hard: 2048 } },
    });
    expect(injected.process!.rlimits).to.deep.equal([{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 2048 }]);
  });

  it('leaves limits alone when clamping is off', async () => {
    const spec = await generateSpec([withRlimits([{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }])], { clampRlimits: false });
    expect(spec.process!.rlimits).to.deep.equal([{ type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 }]);
  });

  it('withRlimits replaces limits of the same type and keeps the others', async () => {
    const spec = await generateSpec([withRlimits([{ type: 'core', soft: 0, hard: 0 }]), withRlimits([{ type: 'nofile', soft: 10, hard: 20 }])], {
      hostRlimits: {},
    });
    expect(spec.process!.rlimits).to.deep.equal([
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
    ]);
  });

  it('validates types and values', () => {
    expect(normalizeRlimitType('nofile')).to.equal('RLIMIT_NOFILE');
    expect(normalizeRlimitType('RLIMIT_AS')).to.equal('RLIMIT_AS');
    for (const bad of [
      [{ type: 'files', soft: 1, hard: 1 }],
      [{ type: 'nofile', soft: -1, hard: 1 }],
      [{ type: 'nofile', soft: 1.5, hard: 2 }],
      [{ type: 'nofile', soft: 3, hard: 2 }],
    ]) {
      expect(() => withRlimits(bad))
        .to.throw()
        .that.satisfies((e: unknown) => hasCode(e, 'ERR_INVALID_ARGUMENT'));
    }
  });
});
