// Text a peer sends reaches the terminal as visible escapes, never as control characters (a registry could clear
// the screen, retitle the window or forge lines otherwise).

import { join } from 'node:path';
import { expect } from 'chai';
import { errorFromResponse } from '../../../lib/registry/errors.js';
import { escapeControl } from '../../../lib/util/escape-control.js';
import { captureCli } from '../../fixtures/cli.js';
import { type FakeRegistry, sendError, startFakeRegistry } from '../../fixtures/fake-registry.js';
import { makeTempDir, removeTempDir } from '../../fixtures/tmp.js';

// Clear screen, set the window title, a CR/LF forging a second line, an 8-bit CSI, DEL.
const HOSTILE = '\x1b[2J\x1b]0;pwned\x07 denied\r\ncontainerkit: all good\u009b31m\x7f';
// Control characters other than the line end the CLI writes itself.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('cli: peer text is printed safely', function () {
  this.timeout(30_000);
  let fake: FakeRegistry;
  let dir: string;

  before(async () => {
    fake = await startFakeRegistry();
    dir = await makeTempDir('cli-peer-text');
  });
  after(async () => {
    await fake.stop();
    await removeTempDir(dir);
  });

  it('escapeControl writes C0, DEL and C1 characters as visible escapes and keeps the rest', () => {
    expect(escapeControl(HOSTILE)).to.equal('\\x1b[2J\\x1b]0;pwned\\x07 denied\\r\\ncontainerkit: all good\\u009b31m\\x7f');
    expect(escapeControl('héllo wörld ✓ tab-free')).to.equal('héllo wörld ✓ tab-free');
  });

  it("a registry's error message reaches stderr as one line of visible escapes", async () => {
    fake.route('GET', '/v2/evil/manifests/latest', (_req, res) => sendError(res, 403, 'DENIED', HOSTILE));
    // A HEAD answer without a digest sends the client on to the GET, whose error has a body.
    fake.route('HEAD', '/v2/evil/manifests/latest', (_req, res) => void res.writeHead(200).end());
    const run = await captureCli(['--root', join(dir, 'root'), 'pull', `${fake.host}/evil:latest`], { DOCKER_CONFIG: dir });
    expect(run.code).to.equal(1);
    expect(run.err).to.match(/^containerkit: [^\n]+ \(ERR_REGISTRY_DENIED\)\n$/);
    expect(run.err).to.include('DENIED: \\x1b[2J\\x1b]0;pwned\\x07 denied\\r\\ncontainerkit: all good\\u009b31m\\x7f');
    expect(CONTROL.test(run.err), JSON.stringify(run.err)).to.equal(false);
    expect(CONTROL.test(run.out), JSON.stringify(run.out)).to.equal(false);
  });

  it("a RegistryError's message escapes the registry's words; its errors keep them as sent", () => {
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: HOSTILE }] }));
    const err = errorFromResponse({ status: 403, headers: {}, url: new URL('http://127.0.0.1:5000/v2/x/manifests/1'), method: 'GET' }, body);
    expect(CONTROL.test(err.message), err.message).to.equal(false);
    expect(err.errors[0]!.message).to.equal(HOSTILE);
  });
});
