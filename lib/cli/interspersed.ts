import { parseArgs } from 'node:util';
import type { Command, ParsedCommandArgs } from './command.js';

/** What {@link parseLeadingOptions} found: the options and leading operands, and everything after them untouched. */
export interface LeadingParse extends ParsedCommandArgs {
  /** The arguments after the `operands`-th operand: a container's command line, passed through as it is. */
  rest: string[];
}

/**
 * docker's rule for verbs that take a command line (`run IMG CMD…`, `exec CTR CMD…`): options come before the
 * first `operands` operands and everything after those is the command's own (`run busybox ls -l` keeps `-l`).
 * Reads `-it`, `-eK=V`, `-e K=V`, `--name x` and `--name=x` as parseArgs does; `--` ends the options.
 * @throws parseArgs' ERR_PARSE_ARGS_* errors (reported as usage errors) for an unknown option or a missing value.
 */
export function parseLeadingOptions(args: readonly string[], options: Command['options'], operands: number): LeadingParse {
  const shorts = new Map(Object.entries(options).flatMap(([name, o]) => (o.short === undefined ? [] : [[o.short, name] as const])));
  const takesValue = (name: string | undefined): boolean => name !== undefined && options[name]?.type === 'string';
  const flags: string[] = [];
  const positionals: string[] = [];
  let i = 0;
  for (; i < args.length && positionals.length < operands; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && takesValue(arg.slice(2)) && i + 1 < args.length) flags.push(args[++i]!);
      continue;
    }
    // A group of short flags: the first one that takes a value takes the rest of the group, or the next argument.
    for (let j = 1; j < arg.length; j++) {
      if (!takesValue(shorts.get(arg[j]!))) continue;
      if (j === arg.length - 1 && i + 1 < args.length) flags.push(args[++i]!);
      break;
    }
  }
  while (positionals.length < operands && i < args.length) positionals.push(args[i++]!);
  const parsed = parseArgs({ args: flags, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  return { values: parsed.values, positionals, rest: args.slice(i) };
}
