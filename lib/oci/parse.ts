/**
 * The strict parsers for manifests, indexes and image configs, in one import. The implementations live in
 * `parse-manifest.ts` and `parse-config.ts`; `parse-fields.ts` holds their internal helpers and is not exported.
 * @module
 */

export { MAX_IMAGE_CONFIG_SIZE, type ParseImageConfigOptions, parseImageConfig } from './parse-config.js';
export {
  MAX_MANIFEST_SIZE,
  type ParsedManifestOrIndex,
  type ParseManifestOptions,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
} from './parse-manifest.js';
