import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createServer, Metadata, type Server, ServerError, Status } from 'nice-grpc';
import { ContainerdClient, type ImagesService } from '../../../lib/containerd/index.js';
import { headersMiddleware } from '../../../lib/containerd/middleware.js';
import { type ContainerkitError, hasCode, NotFoundError } from '../../../lib/errors/index.js';
import { ContainersDefinition } from '../../../lib/gen/containerd/services/containers/v1/containers.js';
import { ContentDefinition, type ContentServiceImplementation } from '../../../lib/gen/containerd/services/content/v1/content.js';
import { VersionDefinition } from '../../../lib/gen/containerd/services/version/v1/version.js';

describe('ContainerdClient middleware (against an in-process gRPC server)', () => {
  let dir: string;
  let server: Server;
  let socket: string;
  const seen: Array<{ method: string; namespace?: string; lease?: string }> = [];
  let hang: (signal: AbortSignal) => Promise<void> = async () => undefined;
  /** What the fake Content/Abort throws on each call; once empty, it succeeds. */
  let abortFailures: string[] = [];
  let abortCalls = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ck-grpc-'));
    socket = join(dir, 'containerd.sock');
    server = createServer();
    server.add(VersionDefinition, {
      async version(_req, ctx) {
        seen.push({ method: 'version', namespace: ctx.metadata.get('containerd-namespace'), lease: ctx.metadata.get('containerd-lease') });
        await hang(ctx.signal);
        return { version: 'v1.6.99', revision: 'abc' };
      },
    });
    server.add(ContainersDefinition, {
      async get(req) {
        throw new ServerError(Status.NOT_FOUND, `container "${req.id}" in namespace "x": not found`);
      },
      async list() {
        return { containers: [] };
      },
      async create() {
        throw new ServerError(Status.UNIMPLEMENTED, 'no');
      },
      async update() {
        throw new ServerError(Status.UNIMPLEMENTED, 'no');
      },
      async delete() {
        return {};
      },
    });
    const unimplemented = async (): Promise<never> => {
      throw new ServerError(Status.UNIMPLEMENTED, 'no');
    };
    server.add(ContentDefinition, {
      info: unimplemented,
      update: unimplemented,
      async *list() {},
      delete: unimplemented,
      async *read() {},
      status: unimplemented,
      listStatuses: unimplemented,
      async *write() {},
      async abort() {
        abortCalls++;
        const failure = abortFailures.shift();
        if (failure !== undefined) throw new ServerError(Status.UNKNOWN, failure);
        return {};
      },
    } satisfies ContentServiceImplementation);
    await server.listen(`unix://${socket}`);
  });

  after(async () => {
    await server?.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
    hang = async () => undefined;
    abortFailures = [];
    abortCalls = 0;
  });

  it('sends the namespace header on every call, and the lease header inside withLease', async () => {
    const client = new ContainerdClient({ address: socket, namespace: 'ns1' });
    try {
      expect(await client.version()).to.deep.equal({ version: 'v1.6.99', revision: 'abc' });
      await client.withLease('lease-1').version();
      await client.withNamespace('ns2').version();
      expect(seen).to.deep.equal([
        { method: 'version', namespace: 'ns1', lease: undefined },
        { method: 'version', namespace: 'ns1', lease: 'lease-1' },
        { method: 'version', namespace: 'ns2', lease: undefined },
      ]);
    } finally {
      await client.close();
    }
  });

  it('takes the namespace and address from CONTAINERD_NAMESPACE / CONTAINERD_ADDRESS', async () => {
    const saved = { ns: process.env.CONTAINERD_NAMESPACE, addr: process.env.CONTAINERD_ADDRESS };
    process.env.CONTAINERD_NAMESPACE = 'from-env';
    process.env.CONTAINERD_ADDRESS = `unix://${socket}`;
    const client = new ContainerdClient();
    try {
      await client.version();
      expect(seen[0]!.namespace).to.equal('from-env');
      expect(client.namespace).to.equal('from-env');
    } finally {
      await client.close();
      for (const [k, v] of [
        ['CONTAINERD_NAMESPACE', saved.ns],
        ['CONTAINERD_ADDRESS', saved.addr],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('maps a NOT_FOUND status to a typed NotFound error', async () => {
    const client = new ContainerdClient({ address: socket });
    try {
      const err = await client.containers.get('nope').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NotFoundError);
      expect((err as NotFoundError).details).to.include({ grpcCode: 5, method: '/containerd.services.containers.v1.Containers/Get' });
    } finally {
      await client.close();
    }
  });

  it('does not call the server with an already-aborted signal, and rejects with its reason', async () => {
    const client = new ContainerdClient({ address: socket });
    try {
      const reason = new Error('already');
      const err = await client.version({ signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
      expect(err).to.equal(reason);
      expect(seen).to.have.length(0);
    } finally {
      await client.close();
    }
  });

  it('rejects a pending call with signal.reason when aborted, and with ERR_DEADLINE_EXCEEDED past timeoutMs or deadline', async () => {
    hang = (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const client = new ContainerdClient({ address: socket });
    try {
      const ac = new AbortController();
      const reason = new Error('cancelled by test');
      const pending = client.version({ signal: ac.signal });
      setTimeout(() => ac.abort(reason), 50);
      expect(await pending.catch((e: unknown) => e)).to.equal(reason);
      const t0 = Date.now();
      const timedOut = await client.version({ timeoutMs: 100 }).catch((e: unknown) => e);
      expect(hasCode(timedOut, 'ERR_DEADLINE_EXCEEDED')).to.equal(true);
      expect((timedOut as ContainerkitError).details).to.deep.include({
        transport: 'grpc',
        timeoutMs: 100,
        method: '/containerd.services.version.v1.Version/Version',
      });
      expect((timedOut as ContainerkitError).category).to.equal('Unavailable');
      expect(Date.now() - t0).to.be.lessThan(2000);
      const late = await client.version({ deadline: new Date(Date.now() + 80) }).catch((e: unknown) => e);
      expect(hasCode(late, 'ERR_DEADLINE_EXCEEDED')).to.equal(true);
    } finally {
      await client.close();
    }
  });

  it('keeps a namespace header the caller set itself', async () => {
    {
      // The middleware only fills in what is missing.
      const mw = headersMiddleware('ns1', 'l1');
      const call = {
        method: { path: '/x', requestStream: false, responseStream: false, options: {} },
        requestStream: false as const,
        responseStream: false as const,
        request: {},
        // biome-ignore lint/correctness/useYield: a unary call's next() is typed as a generator that returns its answer
        async *next(_req: unknown, options: { metadata?: Metadata }) {
          return { ns: options.metadata?.get('containerd-namespace'), lease: options.metadata?.get('containerd-lease') };
        },
      };
      const gen = mw(call as never, { metadata: Metadata({ 'containerd-namespace': 'mine' }) });
      const result = await gen.next();
      expect(result.value).to.deep.equal({ ns: 'mine', lease: 'l1' });
    }
  });

  it('uses injected services instead of the gRPC ones', async () => {
    const images = { list: async () => [{ name: 'fake', labels: {}, target: { mediaType: 'm', digest: 'sha256:x', size: 1 } }] } as unknown as ImagesService;
    const client = new ContainerdClient({ address: socket, services: { images } });
    try {
      expect((await client.images.list()).map((i) => i.name)).to.deep.equal(['fake']);
    } finally {
      await client.close();
    }
  });

  it('retries an ingest abort that raced the close of its writer, and only that', async () => {
    const notEmpty = 'unlinkat /x/ingest/abc: directory not empty';
    const client = new ContainerdClient({ address: socket });
    try {
      abortFailures = [notEmpty, notEmpty];
      await client.content.abort('ref-1');
      expect(abortCalls).to.equal(3);

      abortCalls = 0;
      abortFailures = ['unlinkat /x/ingest/abc: permission denied'];
      const other = await client.content.abort('ref-1').catch((e: unknown) => e);
      expect(other).to.include({ code: 'ERR_CONTAINERD_INTERNAL' });
      expect(abortCalls).to.equal(1);

      abortCalls = 0;
      abortFailures = Array<string>(50).fill(notEmpty);
      const reason = new Error('stop retrying');
      const ac = new AbortController();
      setTimeout(() => ac.abort(reason), 100);
      expect(await client.content.abort('ref-1', { signal: ac.signal }).catch((e: unknown) => e)).to.equal(reason);
      expect(abortCalls).to.be.within(2, 10);
    } finally {
      await client.close();
    }
  });
});
