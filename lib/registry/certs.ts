import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { logger } from '../util/debug.js';

const log = logger('registry:tls');

/** The directory docker reads per-registry TLS material from. */
export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

/** TLS material for one registry host, in the form `https.Agent` takes. */
export interface HostTls {
  /** Extra CA certificates (every `*.crt`), trusted in addition to Node's bundled roots. */
  ca?: Buffer[];
  /** Client certificate (`*.cert`). */
  cert?: Buffer;
  /** Client key (`*.key`, same base name as the certificate). */
  key?: Buffer;
}

/**
 * Reads `<certsDir>/<host>/` the way docker does: every `*.crt` is a CA; each `<name>.cert` must have a matching
 * `<name>.key` (and the other way round). `host` is `name[:port]` as in the image reference. Returns undefined
 * when the directory does not exist.
 *
 * @throws ERR_INVALID_ARGUMENT when a client certificate has no key or a key no certificate, or the directory
 *   holds more than one client pair (Node's agent takes one). Other read errors are ERR_IO.
 */
export async function loadHostTls(certsDir: string, host: string): Promise<HostTls | undefined> {
  // A host containing a path separator or dot-dot would escape certsDir.
  if (host.includes('/') || host.includes('\\') || host === '..' || host === '.') return undefined;
  const dir = join(certsDir, host);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw newError('ERR_IO', `cannot read ${dir}: ${code ?? String(err)}`, { cause: err, details: { path: dir } });
  }
  const tls: HostTls = {};
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, name));
    } catch (err) {
      throw newError('ERR_IO', `cannot read ${join(dir, name)}`, { cause: err, details: { path: join(dir, name) } });
    }
  };
  for (const name of names) {
    if (name.endsWith('.crt')) (tls.ca ??= []).push(await read(name));
  }
  const certs = names.filter((n) => n.endsWith('.cert'));
  const keys = names.filter((n) => n.endsWith('.key'));
  for (const cert of certs) {
    if (!keys.includes(`${cert.slice(0, -'.cert'.length)}.key`)) {
      throw newError('ERR_INVALID_ARGUMENT', `missing key ${cert.slice(0, -'.cert'.length)}.key for client certificate ${join(dir, cert)}`);
    }
  }
  for (const key of keys) {
    if (!certs.includes(`${key.slice(0, -'.key'.length)}.cert`)) {
      throw newError('ERR_INVALID_ARGUMENT', `missing client certificate ${key.slice(0, -'.key'.length)}.cert for key ${join(dir, key)}`);
    }
  }
  if (certs.length > 1) throw newError('ERR_INVALID_ARGUMENT', `${dir} holds ${certs.length} client certificates; only one is supported`);
  if (certs.length === 1) {
    tls.cert = await read(certs[0]!);
    tls.key = await read(`${certs[0]!.slice(0, -'.cert'.length)}.key`);
  }
  log('loaded TLS for %s: %d CA(s), client cert %s', host, tls.ca?.length ?? 0, tls.cert ? 'yes' : 'no');
  return tls;
}
