/**
 * A throwaway "engine" for the reattach tests: opens a ShimManager on the root given in argv[2] (JSON
 * `{ stateDir, namespace, containers: [{ id, bundle, stdout }] }`), starts each container, prints one JSON line
 * `{ ready: true, containers: [{ id, shimPid, logPath }] }` and then idles until it is killed.
 */
import type { OutputTarget } from '../../../../lib/oci/index.js';
import { ShimManager } from '../../../../lib/shim/index.js';

interface Plan {
  stateDir: string;
  namespace: string;
  containers: Array<{ id: string; bundle: string; stdout: OutputTarget }>;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan;
const manager = await ShimManager.open({ stateDir: plan.stateDir, namespace: plan.namespace });
const started = [];
for (const { id, bundle, stdout } of plan.containers) {
  const c = await manager.start(id, bundle, { stdio: { stdout } });
  await c.start();
  started.push({ id, shimPid: c.shimPid, logPath: c.logPath });
}
process.stdout.write(`${JSON.stringify({ ready: true, containers: started })}\n`);
setInterval(() => undefined, 1 << 30);
