import { newError } from '../errors/index.js';

/** docker's "how long ago" for a time in ms: `Less than a second ago`, `3 seconds ago`, `About a minute ago`, `2 hours ago`. */
export function sinceText(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'} ago`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute ago' : `${m} minutes ago`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour ago' : `${h} hours ago`;
  const d = Math.round(h / 24);
  return d < 14 ? `${d} days ago` : `${Math.round(d / 7)} weeks ago`;
}

/**
 * A time as docker's `--since`/`--until` take it: RFC 3339 (or any date `Date.parse` reads), Unix seconds
 * (`1700000000.5`), or a duration back from now (`10s`, `5m`, `2h`, `1h30m`). @throws ERR_INVALID_ARGUMENT naming the flag.
 */
export function parseTimeFlag(value: string, flag: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const parts = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (parts && value !== '') {
    const [, h = '0', m = '0', s = '0'] = parts;
    return new Date(now - (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw newError('ERR_INVALID_ARGUMENT', `${flag} must be a date (RFC 3339), Unix seconds or a duration like 10m, got ${JSON.stringify(value)}`);
  return new Date(ms);
}
