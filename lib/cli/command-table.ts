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
  // Containers (over the Engine)
  { name: 'run', summary: 'Create and run a new container from an image', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'create', summary: 'Create a new container', load: async () => (await import('./commands/create.js')).createCommand },
  { name: 'start', summary: 'Start one or more stopped containers', load: async () => (await import('./commands/targets.js')).startCommand },
  {
    name: 'attach',
    summary: "Attach the terminal's input and output to a running container",
    load: async () => (await import('./commands/targets.js')).attachCommand,
  },
  { name: 'ps', summary: 'List containers', load: async () => (await import('./commands/ps.js')).psCommand },
  { name: 'logs', summary: 'Fetch the logs of a container', load: async () => (await import('./commands/logs.js')).logsCommand },
  { name: 'exec', summary: 'Execute a command in a running container', load: async () => (await import('./commands/exec.js')).execCommand },
  { name: 'stop', summary: 'Stop one or more running containers', load: async () => (await import('./commands/targets.js')).stopCommand },
  { name: 'kill', summary: 'Kill one or more running containers', load: async () => (await import('./commands/targets.js')).killCommand },
  { name: 'restart', summary: 'Restart one or more containers', load: async () => (await import('./commands/targets.js')).restartCommand },
  {
    name: 'pause',
    summary: 'Pause all processes within one or more containers',
    load: async () => (await import('./commands/targets.js')).pauseCommand,
  },
  {
    name: 'unpause',
    summary: 'Unpause all processes within one or more containers',
    load: async () => (await import('./commands/targets.js')).unpauseCommand,
  },
  { name: 'rename', summary: 'Rename a container', load: async () => (await import('./commands/targets.js')).renameCommand },
  { name: 'rm', summary: 'Remove one or more containers', load: async () => (await import('./commands/targets.js')).rmCommand },
  {
    name: 'wait',
    summary: 'Block until one or more containers stop, then print their exit codes',
    load: async () => (await import('./commands/targets.js')).waitCommand,
  },
  {
    name: 'inspect',
    summary: 'Return low-level information on containers and images',
    load: async () => (await import('./commands/inspect.js')).inspectCommand,
  },
  { name: 'port', summary: 'List port mappings of a container', load: async () => (await import('./commands/container-info.js')).portCommand },
  {
    name: 'top',
    summary: 'Display the running processes of a container',
    load: async () => (await import('./commands/container-info.js')).topCommand,
  },
  {
    name: 'stats',
    summary: 'Display a snapshot of containers resource usage statistics (--no-stream)',
    load: async () => (await import('./commands/container-info.js')).statsCommand,
  },
  { name: 'events', summary: 'Get real time events from the engine', load: async () => (await import('./commands/events.js')).eventsCommand },
  // Images
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
