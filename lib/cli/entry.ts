import { runCli } from './main.js';

// 128 + the signal's number, the exit status shells report for a process killed by it.
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The `containerkit` process: runs {@link runCli} on `argv` and sets the exit code. The first SIGINT or SIGTERM
 * aborts the running operation through its AbortSignal, so it can clean up (ingests, temporary files, containers);
 * a second one exits at once, for an operation that is stuck or cleaning up too slowly.
 */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`containerkit: ${sig} again, exiting now\n`);
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    controller.abort(new DOMException(`received ${sig}`, 'AbortError'));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  process.exitCode = await runCli(argv, { signal: controller.signal });
}
