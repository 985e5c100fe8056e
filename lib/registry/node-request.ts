import { type Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/** One request without a proxy, as {@link sendDirect} sends it. */
export interface DirectRequest {
  method: string;
  url: URL;
  headers: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  agent: HttpAgent | HttpsAgent;
  signal: AbortSignal;
}

/**
 * Sends one request with node's own http/https client and resolves with the response once its headers are in (no
 * redirect followed, every status returned). This is the transport of every request that goes to the registry
 * without a proxy: axios's ESM entry loads its http, fetch and xhr adapters, form-data (mime-db) and undici before
 * the first request, ~60 % of the import cost of a whole RegistryClient in a fresh process.
 * Rejects with node's error (its `code`, e.g. ECONNREFUSED, kept) or an AbortError once `signal` fires.
 */
export function sendDirect(req: DirectRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(req.url, { method: req.method, headers: req.headers, agent: req.agent, signal: req.signal });
    // `on`, not `once`: a later socket error must not go unhandled; it reaches the response stream anyway.
    outgoing.on('error', reject);
    outgoing.once('response', resolve);
    const { body } = req;
    if (body === undefined || Buffer.isBuffer(body)) {
      // A whole body given to end() before the headers went out is sent with its Content-Length.
      outgoing.end(body);
      return;
    }
    body.once('error', (err) => outgoing.destroy(err));
    body.pipe(outgoing);
  });
}
