export type { CliContext, Command, ParsedCommandArgs } from './command.js';
export { type CliIo, DEFAULT_ROOT, runCli } from './main.js';
export { type Column, type ListFormat, listFormat, renderList } from './output.js';
