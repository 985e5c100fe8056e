import { runCli } from './main.js';

/**
 * The `containerkit` process: runs {@link runCli} on `argv` and sets the exit code. The first SIGINT or SIGTERM
 * aborts the running operation through its AbortSignal, so it can clean up (ingests, temporary files, containers);
 * a second one exits at once, for an operation that is stuck or cleaning up too slowly, unless the verb listens for
 * that signal itself.
 */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    // A verb that listens for the signal itself (`containerd run` passes signals on to its container, and kills it
    // on the second) decides what a repeated one means.
    if (controller.signal.aborted && process.listenerCount(sig) === 1) {
      // Dies of the signal itself, at once: process.exit() would first join libuv's threads, and one blocked in a
      // read of a FIFO or a stalled mount never returns. The shell still sees 128+n.
      process.stderr.write(`containerkit: ${sig} again, exiting now\n`);
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
      return;
    }
    controller.abort(new DOMException(`received ${sig}`, 'AbortError'));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  process.exitCode = await runCli(argv, { signal: controller.signal });
}
