export { runCli, DEFAULT_ROOT, type CliIo } from './main.js';
export type { Command, CliContext, ParsedCommandArgs } from './command.js';
export { renderList, listFormat, type Column, type ListFormat } from './output.js';
