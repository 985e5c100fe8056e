// The memory probe of the `engine-scale` scenario: a fresh Node process opens an Engine on ROOT (which holds the
// images already), runs COUNT detached `sleep 600` containers of IMAGE, lets everything settle, and prints its own
// RSS and the RSS of each container's shim and logger, as JSON. It leaves the containers running for the caller.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../dist/index.js';

const [root, image, count, settleMs] = process.argv.slice(2);
const rssKiB = async (pid) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const childrenOf = async (pid) => {
  const out = [];
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
};

const engine = await Engine.open({ root });
const ids = [];
for (let i = 0; i < Number(count); i++) ids.push((await engine.run(image, { cmd: ['sleep', '600'], detach: true, pull: 'never' })).id);
await sleep(Number(settleMs));
const helpers = [];
for (const id of ids) {
  const { State } = await engine.inspect(id);
  const stat = await readFile(`/proc/${State.Pid}/stat`, 'utf8');
  const shim = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  const logger = (await childrenOf(shim)).filter((p) => p !== State.Pid);
  helpers.push({ shimKiB: await rssKiB(shim), loggerKiB: (await Promise.all(logger.map(rssKiB))).reduce((a, b) => a + b, 0) });
}
const images = (await engine.images()).length;
process.stdout.write(`${JSON.stringify({ engineKiB: await rssKiB(process.pid), images, containers: ids.length, helpers })}\n`);
await engine.close();
