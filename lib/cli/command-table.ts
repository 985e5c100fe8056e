import type { Command } from './command.js';

/**
 * One verb in the command table: what `containerkit help` lists, and a loader for the rest. Every `containerkit`
 * call is a new process, so a verb's modules (and their gRPC, protobuf or HTTP graphs) load only when it runs.
 */
export interface CommandEntry {
  name: string;
  /** One line for the command list; the loaded {@link Command} has the same. */
  summary: string;
  load(): Promise<Command>;
}

// In the order `containerkit help` lists them.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'pull', summary: 'Download an image from a registry', load: async () => (await import('./commands/pull.js')).pullCommand },
  { name: 'push', summary: 'Upload an image to a registry', load: async () => (await import('./commands/push.js')).pushCommand },
  { name: 'images', summary: 'List images', load: async () => (await import('./commands/images.js')).imagesCommand },
  { name: 'image', summary: 'Manage images (image inspect REF...)', load: async () => (await import('./commands/image.js')).imageCommand },
  { name: 'tag', summary: 'Create a tag TARGET that refers to SOURCE', load: async () => (await import('./commands/tag.js')).tagCommand },
  { name: 'rmi', summary: 'Remove one or more images', load: async () => (await import('./commands/rmi.js')).rmiCommand },
  { name: 'save', summary: 'Save one or more images to a tar archive', load: async () => (await import('./commands/save.js')).saveCommand },
  { name: 'load', summary: 'Load images from a tar archive', load: async () => (await import('./commands/load.js')).loadCommand },
  { name: 'unpack', summary: 'Unpack an image from the store into a directory', load: async () => (await import('./commands/unpack.js')).unpackCommand },
  {
    name: 'apply-layer',
    summary: 'Apply one image layer blob (gzip, zstd or tar) onto a directory',
    load: async () => (await import('./commands/apply-layer.js')).applyLayerCommand,
  },
  { name: 'verify', summary: 'Check every stored blob against its digest', load: async () => (await import('./commands/verify.js')).verifyCommand },
  { name: 'gc', summary: 'Remove unreferenced content', load: async () => (await import('./commands/gc.js')).gcCommand },
  {
    name: 'containerd',
    summary: 'Use a running containerd (pull, images, run, import, export…)',
    load: async () => (await import('./commands/containerd.js')).containerdCommand,
  },
  { name: 'login', summary: 'Log in to a registry', load: async () => (await import('./commands/login.js')).loginCommand },
  { name: 'logout', summary: 'Log out from a registry', load: async () => (await import('./commands/logout.js')).logoutCommand },
  { name: 'version', summary: 'Show the containerkit version', load: async () => (await import('./commands/version.js')).versionCommand },
];

/** The entry for `name`, or undefined. */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
