import type { Descriptor } from '../oci/descriptor.js';
import type { Manifest } from '../oci/manifest.js';

/** The label prefix that makes containerd's GC keep a blob's children while the blob lives. */
export const GC_REF_CONTENT = 'containerd.io/gc.ref.content';

/**
 * The label an image config carries for the top snapshot of its unpack into `snapshotter`, so containerd's GC keeps
 * the snapshots while the image lives: `{ "containerd.io/gc.ref.snapshot.<snapshotter>": chainId }`.
 */
export function gcSnapshotLabel(snapshotter: string, chainId: string): Record<string, string> {
  return { [`containerd.io/gc.ref.snapshot.${snapshotter}`]: chainId };
}

/**
 * The GC reference labels a parent blob carries for its children, as containerd's own handlers set them: a
 * manifest names its config (`….config`) and layers (`….l.<i>`), an index its manifests (`….m.<i>`).
 */
export function gcChildLabels(
  doc: { kind: 'manifest'; manifest: Pick<Manifest, 'config' | 'layers'> } | { kind: 'index'; manifests: readonly Descriptor[] },
): Record<string, string> {
  const labels: Record<string, string> = {};
  if (doc.kind === 'index') {
    doc.manifests.forEach((m, i) => {
      labels[`${GC_REF_CONTENT}.m.${i}`] = m.digest;
    });
    return labels;
  }
  labels[`${GC_REF_CONTENT}.config`] = doc.manifest.config.digest;
  doc.manifest.layers.forEach((l, i) => {
    labels[`${GC_REF_CONTENT}.l.${i}`] = l.digest;
  });
  return labels;
}
