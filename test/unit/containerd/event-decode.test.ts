import { expect } from 'chai';
import { fromDate } from '../../../lib/containerd/convert.js';
import { decodeEvent } from '../../../lib/containerd/event-decode.js';
import { ContainerkitError } from '../../../lib/errors/index.js';
import * as pbContainer from '../../../lib/gen/containerd/events/container.js';
import * as pbContent from '../../../lib/gen/containerd/events/content.js';
import * as pbImage from '../../../lib/gen/containerd/events/image.js';
import * as pbNamespace from '../../../lib/gen/containerd/events/namespace.js';
import * as pbSnapshot from '../../../lib/gen/containerd/events/snapshot.js';
import * as pbTask from '../../../lib/gen/containerd/events/task.js';

interface Codec {
  encode(message: object): { finish(): Uint8Array };
  decode(input: Uint8Array): object;
  fromPartial(object: object): object;
}

/** Every top-level message of the generated event modules (nested ones such as `X_Runtime` are not events). */
function generatedMessages(): Array<[string, Codec]> {
  const out: Array<[string, Codec]> = [];
  for (const mod of [pbTask, pbContainer, pbImage, pbNamespace, pbContent, pbSnapshot]) {
    for (const [name, value] of Object.entries(mod)) {
      if (/^[A-Z][A-Za-z]*$/.test(name) && typeof value === 'object' && value !== null && 'decode' in value) out.push([name, value as Codec]);
    }
  }
  return out;
}

// The generated task messages' fields under their names in the shared TaskEvent.
const TASK_FIELD: Record<string, string> = { exitStatus: 'code', id: 'execId' };

describe('containerd event decoding', () => {
  it('decodes a TaskExit into the shared TaskEvent form: code, a Date for exitedAt, no execId for the init process', () => {
    const value = pbTask.TaskExit.encode({
      containerId: 'c1',
      id: 'c1',
      pid: 42,
      exitStatus: 3,
      exitedAt: fromDate(new Date('2024-01-01T00:00:00.250Z')),
    }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskExit', value })).to.deep.equal({
      type: 'exit',
      containerId: 'c1',
      execId: undefined,
      pid: 42,
      code: 3,
      exitedAt: new Date('2024-01-01T00:00:00.250Z'),
    });
  });

  it("gives exitedAt undefined when it is unset or Go zero time, and an exec's id as execId", () => {
    const unset = pbTask.TaskDelete.encode({ containerId: 'c', pid: 7, exitStatus: 0, exitedAt: undefined, id: 'e1' }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskDelete', value: unset })).to.deep.equal({
      type: 'delete',
      containerId: 'c',
      execId: 'e1',
      pid: 7,
      code: 0,
      exitedAt: undefined,
    });
    const zero = pbTask.TaskExit.encode({ containerId: 'c', id: 'c', pid: 1, exitStatus: 1, exitedAt: { seconds: -62135596800n, nanos: 0 } }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskExit', value: zero })).to.have.property('exitedAt', undefined);
  });

  it('converts a TaskCreate: wire mounts into OCI mounts, io into plain fields', () => {
    const value = pbTask.TaskCreate.encode({
      containerId: 'c3',
      bundle: '/run/b',
      rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/a'] }],
      io: { stdin: '/f/in', stdout: '/f/out', stderr: '', terminal: true },
      checkpoint: '',
      pid: 99,
    }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskCreate', value })).to.deep.equal({
      type: 'create',
      containerId: 'c3',
      bundle: '/run/b',
      rootfs: [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/a'] }],
      io: { stdin: '/f/in', stdout: '/f/out', stderr: '', terminal: true },
      checkpoint: '',
      pid: 99,
    });
  });

  it('converts a ContainerCreate runtime, its options as an AnyValue, and accepts a prefixed type URL', () => {
    const options = { typeUrl: 'containerd.runc.v1.Options', value: Buffer.from([1, 2, 3]) };
    const value = pbContainer.ContainerCreate.encode({ id: 'c2', image: 'img', runtime: { name: 'io.containerd.runc.v2', options } }).finish();
    const decoded = decodeEvent({ typeUrl: 'type.googleapis.com/containerd.events.ContainerCreate', value });
    expect(decoded.type).to.equal('containerd.events.ContainerCreate');
    expect(decoded).to.deep.equal({
      type: 'containerd.events.ContainerCreate',
      payload: {
        id: 'c2',
        image: 'img',
        runtime: { name: 'io.containerd.runc.v2', options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([1, 2, 3]) } },
      },
    });
    const bare = pbContainer.ContainerCreate.encode({ id: 'c4', image: '', runtime: undefined }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.ContainerCreate', value: bare })).to.deep.equal({
      type: 'containerd.events.ContainerCreate',
      payload: { id: 'c4', image: '' },
    });
  });

  it('converts labels and snapshot events field for field', () => {
    const payload = (typeUrl: string, value: Uint8Array): unknown => {
      const decoded = decodeEvent({ typeUrl, value });
      return 'payload' in decoded ? decoded.payload : undefined;
    };
    const image = pbImage.ImageUpdate.encode({ name: 'docker.io/library/busybox:latest', labels: { a: 'b' } }).finish();
    expect(payload('containerd.events.ImageUpdate', image)).to.deep.equal({ name: 'docker.io/library/busybox:latest', labels: { a: 'b' } });
    const commit = pbSnapshot.SnapshotCommit.encode({ key: 'extract-1', name: 'sha256:abc', snapshotter: 'overlayfs' }).finish();
    expect(payload('containerd.events.SnapshotCommit', commit)).to.deep.equal({ key: 'extract-1', name: 'sha256:abc', snapshotter: 'overlayfs' });
    const prepare = pbSnapshot.SnapshotPrepare.encode({ key: 'k', parent: '', snapshotter: 'native' }).finish();
    expect(payload('containerd.events.SnapshotPrepare', prepare)).to.deep.equal({ key: 'k', parent: '', snapshotter: 'native' });
  });

  it('knows every generated event message, and each decoded form has exactly the generated fields', () => {
    const messages = generatedMessages();
    expect(messages.length).to.equal(24);
    for (const [name, codec] of messages) {
      const generated = codec.fromPartial({});
      const decoded = decodeEvent({ typeUrl: `containerd.events.${name}`, value: codec.encode(generated).finish() });
      if (name === 'TaskIO') {
        // TaskCreate's `io` field, never published on its own.
        expect(decoded.type, name).to.equal('unknown');
      } else if (name.startsWith('Task')) {
        // Task events are the shared TaskEvent: every field, a few under the shared names, beside `type`.
        expect(decoded.type, name).to.not.equal('unknown');
        const fields = Object.keys(generated).map((k) => TASK_FIELD[k] ?? k);
        expect(Object.keys(decoded), name).to.have.members(['type', ...fields]);
      } else {
        expect(decoded.type, name).to.equal(`containerd.events.${name}`);
        // Unset sub-messages (undefined in the generated form) are left out of the domain form.
        const setFields = Object.entries(generated)
          .filter(([, v]) => v !== undefined)
          .map(([k]) => k);
        expect(Object.keys('payload' in decoded ? decoded.payload : {}), name).to.have.members(setFields);
      }
    }
  });

  it('reports a missing payload and unknown types as unknown, with the raw type URL and bytes', () => {
    expect(decodeEvent(undefined)).to.deep.equal({ type: 'unknown', typeUrl: '', value: new Uint8Array() });
    expect(decodeEvent({ typeUrl: 'example.com/Other', value: new Uint8Array([1]) })).to.deep.equal({
      type: 'unknown',
      typeUrl: 'example.com/Other',
      value: new Uint8Array([1]),
    });
    expect(decodeEvent({ typeUrl: 'containerd.events.toString', value: new Uint8Array() }).type).to.equal('unknown');
  });

  it('reports a type URL naming a prototype property as unknown (the table is looked up by own keys only)', () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'toString', '__defineGetter__']) {
      for (const typeUrl of [name, `types.example.com/${name}`]) {
        expect(decodeEvent({ typeUrl, value: new Uint8Array([8, 1]) }), typeUrl).to.deep.equal({ type: 'unknown', typeUrl, value: new Uint8Array([8, 1]) });
      }
    }
  });

  it('throws ERR_CONTAINERD_INTERNAL for bytes that are not the named message', () => {
    const bad = { typeUrl: 'containerd.events.TaskExit', value: new Uint8Array([0x0a, 0x05, 0x61]) }; // field 1, length 5, 1 byte
    expect(() => decodeEvent(bad))
      .to.throw(ContainerkitError)
      .with.property('code', 'ERR_CONTAINERD_INTERNAL');
  });
});
