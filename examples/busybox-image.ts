// An image made offline from the host's busybox-static, pushed to a registry: what the examples run when there is no
// network. Built with containerkit's own API (buildImage: a layer from a directory, a config, a manifest, a name).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildImageResult, buildImage, ImageStore } from 'containerkit/images';
import type { ImageRunConfig } from 'containerkit/oci';
import type { RegistryClient } from 'containerkit/registry';

/** A root filesystem in `dir`: busybox-static as /bin/busybox, a /bin symlink per applet, passwd and group. */
export async function busyboxRoot(dir: string): Promise<void> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (busybox === undefined) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'root', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile(busybox, join(dir, 'bin', 'busybox'));
  const listed = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((a) => a.trim());
  const applets = [...new Set(listed)].filter((a) => a !== '' && a !== 'busybox' && !a.includes('/'));
  for (const applet of applets) await symlink('busybox', join(dir, 'bin', applet));
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** Builds a busybox image named `ref` with `config` in a scratch store and pushes it through `registry`. */
export async function pushBusyboxImage(ref: string, registry: RegistryClient, config: ImageRunConfig = {}): Promise<BuildImageResult> {
  const work = await mkdtemp(join(tmpdir(), 'containerkit-image-'));
  try {
    await busyboxRoot(join(work, 'rootfs'));
    const store = await ImageStore.open(join(work, 'store'), { registry });
    const image = await buildImage(store, ref, {
      layers: [{ directory: join(work, 'rootfs'), comment: 'busybox-static and its applets' }],
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...config },
    });
    await store.push(ref);
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
