import { newError } from '../../errors/index.js';

/**
 * The `Authorization` value for HTTP Basic auth (RFC 7617): `Basic base64(username ":" password)`, UTF-8.
 *
 * @throws ERR_INVALID_ARGUMENT when the username contains `:` (Basic cannot carry it) or either part contains a
 *   control character; the message names the part, never its value.
 */
export function basicAuthorization(username: string, password: string): string {
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw newError('ERR_INVALID_ARGUMENT', 'basic auth needs a string username and password');
  }
  if (username.includes(':')) throw newError('ERR_INVALID_ARGUMENT', 'a basic auth username cannot contain ":"');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(username)) throw newError('ERR_INVALID_ARGUMENT', 'the username contains a control character');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(password)) throw newError('ERR_INVALID_ARGUMENT', 'the password contains a control character');
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
