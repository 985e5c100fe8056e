import { expect } from 'chai';
import { redact, shortId } from '../../../lib/util/debug.js';

describe('util/debug', () => {
  it('redact removes credentials from URLs, headers, query strings and JSON', () => {
    const cases: Array<[string, string]> = [
      ['https://alice:s3cret@registry.example/v2/', 'https://***@registry.example/v2/'],
      ['Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig', 'Authorization: Bearer ***'],
      ['authorization=Basic YWxpY2U6czNjcmV0', 'authorization=Basic ***'],
      ['GET /token?scope=repo:x:pull&access_token=abcdef123456', 'GET /token?scope=repo:x:pull&access_token=***'],
      ['{"token":"abc.def.ghi","expires_in":300}', '{"token":"***","expires_in":300}'],
      ['{"auths":{"h":{"auth":"YWxpY2U6czNjcmV0"}}}', '{"auths":{"h":{"auth":"***"}}}'],
      ['{"password": "hunter2"}', '{"password": "***"}'],
    ];
    for (const [input, expected] of cases) expect(redact(input), input).to.equal(expected);
  });

  it('redact leaves ordinary text alone', () => {
    const text = 'pull docker.io/library/busybox:latest sha256:' + 'a'.repeat(64);
    expect(redact(text)).to.equal(text);
  });

  it('shortId gives the first 12 hex characters', () => {
    expect(shortId('sha256:0123456789abcdef0123')).to.equal('0123456789ab');
    expect(shortId('deadbeefcafebabe')).to.equal('deadbeefcafe');
  });
});
