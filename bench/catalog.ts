/**
 * The scenarios `npm run bench` knows. Each is loaded only when asked for, so a scenario whose imports are
 * broken or heavy does not stop the others from running or being listed.
 */
import type { ScenarioEntry } from './scenario.js';

/** Every scenario, in listing order. */
export const SCENARIOS: readonly ScenarioEntry[] = [
  {
    name: 'digest',
    summary: 'sha256 of a 500 MB file: digestFile in a fresh node process vs sha256sum',
    load: async () => (await import('./scenarios/digest.js')).createDigestScenario(),
  },
  {
    name: 'runc-run',
    summary: 'start-to-exit of /bin/true in a container: OCIRuntime.run in-process vs runc run spawned by child_process',
    load: async () => (await import('./scenarios/runc-run.js')).createRuncRunScenario(),
  },
  {
    name: 'shim-run',
    summary: 'start-to-exit of /bin/true through containerd-shim-runc-v2: ShimManager in-process (no containerd) vs ctr run --rm on containerd',
    load: async () => (await import('./scenarios/shim-run.js')).createShimRunScenario(),
  },
  {
    name: 'registry-pull',
    summary: 'pull a 200 MB layer and a 20,000-file layer from a local registry: RegistryClient in a fresh node process vs skopeo copy',
    load: async () => (await import('./scenarios/registry-pull.js')).createRegistryPullScenario(),
  },
  {
    name: 'unpack',
    summary: 'unpack a 200 MB layer and a 20,000-file layer from an OCI layout into an empty rootfs: applyLayer in a fresh node process vs umoci raw unpack',
    load: async () => (await import('./scenarios/unpack.js')).createUnpackScenario(),
  },
  {
    name: 'store-pull',
    summary: 'pull the big image into an empty ImageStore (in-process ImageStore.pull) vs skopeo copy into an empty OCI layout; also the re-pull time',
    load: async () => (await import('./scenarios/store-pull.js')).createStorePullScenario(),
  },
  {
    name: 'pull-unpack',
    summary: 'pull and unpack the big image into empty overlay snapshots: ImageStore.pull with unpack (in-process, pipelined) vs ctr images pull on containerd',
    load: async () => (await import('./scenarios/pull-unpack.js')).createPullUnpackScenario(),
  },
  {
    name: 'containerd-pull',
    summary: 'pull the big image into an emptied containerd (fetch + unpack): containerdPull in-process vs ctr images pull --plain-http',
    load: async () => (await import('./scenarios/containerd-pull.js')).createContainerdPullScenario(),
  },
  {
    name: 'containerd-run',
    summary: 'run-to-exit of /bin/true on containerd: ContainerdClient in-process (container, FIFO task, delete) vs ctr run --rm',
    load: async () => (await import('./scenarios/containerd-run.js')).createContainerdRunScenario(),
  },
  {
    name: 'cli-start',
    summary: 'start-up of the CLI as a cold process: containerkit version, and images on a 10-image store, vs node -e 0 (and skopeo --version)',
    load: async () => (await import('./scenarios/cli-start.js')).createCliStartScenario(),
  },
  {
    name: 'engine-run',
    summary: 'start-to-exit of /bin/true through the Engine: Engine.run (attached, autoRemove) in-process vs ctr run --rm',
    load: async () => (await import('./scenarios/engine-run.js')).createEngineRunScenario(),
  },
  {
    name: 'cli-run',
    summary: 'containerkit run --rm IMAGE /bin/true as a cold process vs podman run --rm (the daemonless peer); ctr run --rm for reference',
    load: async () => (await import('./scenarios/cli-run.js')).createCliRunScenario(),
  },
  {
    name: 'engine-scale',
    summary: '50 containers sleep 60, detached, 10 at a time: Engine in-process vs ctr run -d; also the idle Engine memory',
    load: async () => (await import('./scenarios/engine-scale.js')).createEngineScaleScenario(),
  },
  {
    name: 'engine-scale-teardown',
    summary: 'teardown of 50 running containers, 10 at a time: Engine.remove (force) vs ctr task kill/delete + container delete',
    load: async () => (await import('./scenarios/engine-scale.js')).createEngineScaleTeardownScenario(),
  },
];
