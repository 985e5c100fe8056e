import type { Engine } from '../engine/engine.js';
import type { CliContext } from './command.js';

/** Options of {@link withEngine}. */
export interface CliEngineOptions {
  /** Give the engine a registry client (for verbs that may pull); it loads the HTTP client. Default false. */
  registry?: boolean;
}

/**
 * Opens an Engine on the CLI's root for one verb and closes it (and the registry client) afterwards, whatever `fn`
 * did: containers keep running, as they outlive every `containerkit` process. The engine modules are imported here,
 * on demand, so a verb's module graph stays its own until it runs.
 */
export async function withEngine<T>(ctx: CliContext, fn: (engine: Engine) => Promise<T>, options: CliEngineOptions = {}): Promise<T> {
  // engine.ts itself, not the engine barrel (which loads every engine part, the flag parsers and spec builders too).
  const { Engine } = await import('../engine/engine.js');
  const registry = options.registry ? new (await import('../registry/registry-client.js')).RegistryClient() : undefined;
  try {
    const engine = await Engine.open({ root: ctx.root, signal: ctx.signal, ...(registry === undefined ? {} : { registry }) });
    try {
      return await fn(engine);
    } finally {
      await engine.close();
    }
  } finally {
    registry?.close();
  }
}
