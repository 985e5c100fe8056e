import { parseArgs } from 'node:util';
import { newError } from '../errors/containerkit-error.js';
import type { CliContext, Command } from './command.js';
import { COMMANDS, findCommand } from './command-table.js';
import { packageVersion } from './version.js';

/** The default engine root when neither `--root` nor `$CONTAINERKIT_ROOT` is given. */
export const DEFAULT_ROOT = '/var/lib/containerkit';

/** Streams the CLI writes to and reads from; the process's own by default. */
export interface CliIo {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

function commandList(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4) + 3;
  return COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n');
}

function mainUsage(): string {
  return [
    'Usage: containerkit [GLOBAL OPTIONS] COMMAND [OPTIONS]',
    '',
    'Build and run containers from Node.js: images, runc, shims and containerd.',
    '',
    'Global options:',
    '  --root DIR     engine root (default $CONTAINERKIT_ROOT or /var/lib/containerkit)',
    '  --debug        print debug logs (containerkit:*) to stderr',
    '  -v, --version  print the version and exit',
    '  -h, --help     print this help',
    '',
    'Commands:',
    commandList(),
    '',
    "Run 'containerkit help COMMAND' for a command's options.",
    '',
  ].join('\n');
}

function commandUsage(command: Command): string {
  const lines = [`Usage: containerkit ${command.usage}`, '', command.summary, ''];
  const options = Object.entries(command.options);
  if (options.length > 0) {
    lines.push('Options:');
    for (const [name, spec] of options) {
      const short = spec.short ? `-${spec.short}, ` : '    ';
      const arg = spec.type === 'string' ? ` ${name.toUpperCase()}` : '';
      lines.push(`  ${short}--${name}${arg}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

interface GlobalOptions {
  root: string | undefined;
  debug: boolean;
  version: boolean;
  help: boolean;
  rest: string[];
}

// Global options come before the verb, as with docker and ctr; everything after the verb is the verb's.
function parseGlobals(argv: readonly string[]): GlobalOptions {
  const out: GlobalOptions = { root: undefined, debug: false, version: false, help: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '--debug') out.debug = true;
    else if (arg === '-v' || arg === '--version') out.version = true;
    else if (arg === '-h' || arg === '--help') out.help = true;
    else if (arg === '--root') {
      const value = argv[++i];
      if (value === undefined) throw newError('ERR_INVALID_ARGUMENT', '--root needs a directory');
      out.root = value;
    } else if (arg.startsWith('--root=')) out.root = arg.slice('--root='.length);
    else throw newError('ERR_INVALID_ARGUMENT', `unknown global option ${arg}; see 'containerkit help'`);
  }
  out.rest = argv.slice(i);
  return out;
}

/**
 * Runs the `containerkit` command line and returns its exit code. Errors print one line to stderr (with the
 * error code) and give exit code 1; usage errors give 2, as docker does. Only the verb that runs is loaded.
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  let verb: string | undefined;
  try {
    const globals = parseGlobals(argv);
    // Loaded on demand, as is the error report: `containerkit version` pays for neither (see command-table.ts).
    if (globals.debug) (await import('../util/debug.js')).enableDebug();
    if (globals.version) {
      stdout.write(`containerkit version ${packageVersion()}\n`);
      return 0;
    }
    const [first, ...rest] = globals.rest;
    if (globals.help || first === undefined || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const entry = topic === undefined ? undefined : findCommand(topic);
      if (topic !== undefined && entry === undefined) throw newError('ERR_INVALID_ARGUMENT', `unknown command "${topic}"; see 'containerkit help'`);
      stdout.write(entry ? commandUsage(await entry.load()) : mainUsage());
      return first === undefined && !globals.help ? 2 : 0;
    }
    const entry = findCommand(first);
    if (!entry) throw newError('ERR_INVALID_ARGUMENT', `unknown command "${first}"; see 'containerkit help'`);
    verb = entry.name;
    const command = await entry.load();
    const parsed = command.rawArgs
      ? { values: { help: rest[0] === '--help' || rest[0] === '-h' }, positionals: rest }
      : parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      stdout.write(commandUsage(command));
      return 0;
    }
    const ctx: CliContext = {
      root: globals.root ?? env.CONTAINERKIT_ROOT ?? DEFAULT_ROOT,
      stdout,
      stderr,
      stdin: io.stdin ?? process.stdin,
      env,
      signal: io.signal ?? new AbortController().signal,
    };
    return (await command.run(ctx, parsed)) ?? 0;
  } catch (err) {
    return (await import('./report-error.js')).reportError(err, stderr, verb);
  }
}
