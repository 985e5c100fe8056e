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

describe('containerd event decoding', () => {
  it('decodes a TaskExit into its domain form, with a Date for exitedAt', () => {
    const value = pbTask.TaskExit.encode({ containerId: 'c1', id: 'c1', pid: 42, exitStatus: 3, exitedAt: fromDate(new Date('2024-01-01T00:00:00.250Z')) }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskExit', value })).to.deep.equal({
      type: 'containerd.events.TaskExit',
      payload: { containerId: 'c1', id: 'c1', pid: 42, exitStatus: 3, exitedAt: new Date('2024-01-01T00:00:00.250Z') },
    });
  });

  it('leaves exitedAt out when it is unset or Go zero time', () => {
    const unset = pbTask.TaskDelete.encode({ containerId: 'c', pid: 7, exitStatus: 0, exitedAt: undefined, id: 'e1' }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskDelete', value: unset }).payload).to.deep.equal({ containerId: 'c', pid: 7, exitStatus: 0, id: 'e1' });
    const zero = pbTask.TaskExit.encode({ containerId: 'c', id: 'c', pid: 1, exitStatus: 1, exitedAt: { seconds: -62135596800n, nanos: 0 } }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskExit', value: zero }).payload).to.not.have.property('exitedAt');
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
    expect(decodeEvent({ typeUrl: 'containerd.events.TaskCreate', value }).payload).to.deep.equal({
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
    expect(decoded.payload).to.deep.equal({
      id: 'c2',
      image: 'img',
      runtime: { name: 'io.containerd.runc.v2', options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([1, 2, 3]) } },
    });
    const bare = pbContainer.ContainerCreate.encode({ id: 'c4', image: '', runtime: undefined }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.ContainerCreate', value: bare }).payload).to.deep.equal({ id: 'c4', image: '' });
  });

  it('converts labels and snapshot events field for field', () => {
    const image = pbImage.ImageUpdate.encode({ name: 'docker.io/library/busybox:latest', labels: { a: 'b' } }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.ImageUpdate', value: image }).payload).to.deep.equal({ name: 'docker.io/library/busybox:latest', labels: { a: 'b' } });
    const commit = pbSnapshot.SnapshotCommit.encode({ key: 'extract-1', name: 'sha256:abc', snapshotter: 'overlayfs' }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.SnapshotCommit', value: commit }).payload).to.deep.equal({ key: 'extract-1', name: 'sha256:abc', snapshotter: 'overlayfs' });
    const prepare = pbSnapshot.SnapshotPrepare.encode({ key: 'k', parent: '', snapshotter: 'native' }).finish();
    expect(decodeEvent({ typeUrl: 'containerd.events.SnapshotPrepare', value: prepare }).payload).to.deep.equal({ key: 'k', parent: '', snapshotter: 'native' });
  });

  it('knows every generated event message, and its payload has exactly the generated fields', () => {
    const messages = generatedMessages();
    expect(messages.length).to.equal(24);
    for (const [name, codec] of messages) {
      const generated = codec.fromPartial({});
      const decoded = decodeEvent({ typeUrl: `containerd.events.${name}`, value: codec.encode(generated).finish() });
      expect(decoded.type, name).to.equal(`containerd.events.${name}`);
      // Unset sub-messages (undefined in the generated form) are left out of the domain form.
      const setFields = Object.entries(generated).filter(([, v]) => v !== undefined).map(([k]) => k);
      expect(Object.keys(decoded.payload ?? {}), name).to.have.members(setFields);
    }
  });

  it('reports a missing payload and unknown types as unknown', () => {
    expect(decodeEvent(undefined)).to.deep.equal({ type: 'unknown', payload: undefined });
    expect(decodeEvent({ typeUrl: 'example.com/Other', value: new Uint8Array() })).to.deep.equal({ type: 'unknown', payload: undefined });
    expect(decodeEvent({ typeUrl: 'containerd.events.toString', value: new Uint8Array() })).to.deep.equal({ type: 'unknown', payload: undefined });
  });

  it('reports a type URL naming a prototype property as unknown (the table is looked up by own keys only)', () => {
    for (const name of ['constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'toString', '__defineGetter__']) {
      for (const typeUrl of [name, `types.example.com/${name}`]) {
        expect(decodeEvent({ typeUrl, value: new Uint8Array([8, 1]) }), typeUrl).to.deep.equal({ type: 'unknown', payload: undefined });
      }
    }
  });

  it('throws ERR_CONTAINERD_INTERNAL for bytes that are not the named message', () => {
    const bad = { typeUrl: 'containerd.events.TaskExit', value: new Uint8Array([0x0a, 0x05, 0x61]) }; // field 1, length 5, 1 byte
    expect(() => decodeEvent(bad)).to.throw(ContainerkitError).with.property('code', 'ERR_CONTAINERD_INTERNAL');
  });
});
