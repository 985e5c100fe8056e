import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { runTool } from '../../../lib/util/exec.js';

describe('util/exec runTool', () => {
  it('returns stdout, stderr and the exit code, and feeds stdin', async () => {
    const result = await runTool('sh', ['-c', 'cat; echo err >&2'], { input: 'hello' });
    expect(result).to.deep.equal({ stdout: 'hello', stderr: 'err\n', exitCode: 0 });
  });

  it('a missing program is ERR_TOOL_MISSING', async () => {
    const err = await runTool('containerkit-no-such-tool', []).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContainerkitError);
    expect((err as ContainerkitError).code).to.equal('ERR_TOOL_MISSING');
  });

  it('a failing program is ERR_TOOL_FAILED with argv, exit code and the stderr tail', async () => {
    const err = (await runTool('sh', ['-c', 'echo first >&2; echo "the reason" >&2; exit 3']).catch((e: unknown) => e)) as ContainerkitError;
    expect(err.code).to.equal('ERR_TOOL_FAILED');
    expect(err.message).to.contain('exited with code 3').and.to.contain('the reason');
    expect(err.details.argv).to.deep.equal(['sh', '-c', 'echo first >&2; echo "the reason" >&2; exit 3']);
    expect(err.details.exitCode).to.equal(3);
    expect(err.details.stderr).to.equal('first\nthe reason\n');
  });

  it('abort kills the child and rejects with signal.reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const run = runTool('sleep', ['30'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 50);
    const err = await run.catch((e: unknown) => e);
    expect((err as Error).message).to.equal('stop now');
    expect(Date.now() - started).to.be.lessThan(5000);
  });

  it('an already-aborted signal starts nothing', async () => {
    const err = await runTool('containerkit-no-such-tool', [], { signal: AbortSignal.abort(new Error('early')) }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('early');
  });
});
