/**
 * Handler wrappers that prune an index's children: {@link filterPlatforms} keeps the entries for wanted
 * platforms, {@link limitManifests} keeps the best `n` of them; and {@link inheritPlatform}, which hands a
 * manifest's platform on to its config.
 * @module
 */
import { isIndexMediaType, isManifestMediaType, type Platform, type PlatformMatcher, selectPlatforms } from '../oci/index.js';
import { type Handler, SKIP } from './handlers.js';

/**
 * Wraps `handler` so that, for an index, only children whose platform matches `platform` are kept (entries with no
 * platform, such as attestations, are dropped). Other descriptors' children pass unchanged.
 * @throws ERR_INVALID_PLATFORM (from the handler call) for a malformed platform.
 */
export function filterPlatforms(handler: Handler, platform: Platform | string | PlatformMatcher): Handler {
  return async (descriptor, context) => {
    const children = await handler(descriptor, context);
    if (!children || children === SKIP || !isIndexMediaType(descriptor.mediaType)) return children;
    const wanted = selectPlatforms(children, platform);
    return children.filter((c) => wanted.includes(c));
  };
}

/**
 * Wraps `handler` so that an index keeps at most `n` children: the best matches for `platform`, best first.
 * `n <= 0` keeps them all (ordered).
 */
export function limitManifests(handler: Handler, platform: Platform | string | PlatformMatcher, n: number): Handler {
  return async (descriptor, context) => {
    const children = await handler(descriptor, context);
    if (!children || children === SKIP || !isIndexMediaType(descriptor.mediaType)) return children;
    const ordered = selectPlatforms(children, platform);
    return n > 0 ? ordered.slice(0, n) : ordered;
  };
}

/**
 * Wraps `handler` so that a manifest reached through an index entry with a `platform` hands that platform on to its
 * config's descriptor (the first child): {@link fetchHandler} then refuses a config whose `os`, `architecture` or
 * `variant` contradicts the platform the manifest was selected for (ERR_PLATFORM_MISMATCH), before it is stored.
 * Other descriptors' children pass unchanged.
 */
export function inheritPlatform(handler: Handler): Handler {
  return async (descriptor, context) => {
    const children = await handler(descriptor, context);
    const platform = descriptor.platform;
    if (!children || children === SKIP || platform === undefined || !isManifestMediaType(descriptor.mediaType) || children.length === 0) return children;
    const [config, ...layers] = children;
    return [{ ...config!, platform }, ...layers];
  };
}
