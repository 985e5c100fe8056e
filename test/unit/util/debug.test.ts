import { expect } from 'chai';
import { redact, scrubSecrets, shortId } from '../../../lib/util/debug.js';

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
      ['bad grant: grant_type=refresh_token&refresh_token=r3f%2Fre%2Bsh&client_id=x', 'bad grant: grant_type=refresh_token&refresh_token=***&client_id=x'],
      ['refresh_token=abc password=hunter2', 'refresh_token=*** password=***'],
    ];
    for (const [input, expected] of cases) expect(redact(input), input).to.equal(expected);
  });

  it('scrubSecrets removes known secrets as sent, percent-encoded, form-encoded, Base64 and Base64url', () => {
    const secret = 'pa55/w+rd=! ü';
    const pair = `alice:${secret}`;
    const forms = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
      Buffer.from(pair).toString('base64'),
      Buffer.from(pair).toString('base64').replace(/=+$/, ''),
      Buffer.from(secret).toString('base64url'),
    ];
    for (const form of forms) {
      const out = scrubSecrets(`the server said: [${form}] for alice`, [secret, pair]);
      expect(out, form).to.equal('the server said: [***] for alice');
    }
    expect(scrubSecrets('nothing to hide', [])).to.equal('nothing to hide');
    expect(scrubSecrets('empty secrets are ignored', [''])).to.equal('empty secrets are ignored');
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
