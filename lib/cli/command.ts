import type { ParseArgsConfig } from 'node:util';

/** What every command gets: the global options and where to write. */
export interface CliContext {
  /** The engine root (`--root`, `$CONTAINERKIT_ROOT`, or `/var/lib/containerkit`). */
  root: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Aborts on SIGINT/SIGTERM so long operations stop cleanly. */
  signal: AbortSignal;
}

/** One verb of the `containerkit` command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line after `containerkit`, e.g. `pull [OPTIONS] REF`. */
  usage: string;
  /** Options for `node:util` parseArgs (`--help` is added for every command). */
  options: NonNullable<ParseArgsConfig['options']>;
  /**
   * The command parses its own arguments (it has sub-verbs, or passes a container's command line through):
   * `run` gets every argument after the verb as `positionals`, and `options` only document it.
   */
  rawArgs?: boolean;
  run(ctx: CliContext, args: ParsedCommandArgs): Promise<number | void>;
}

/** The parsed arguments of a command. */
export interface ParsedCommandArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}
