/**
 * The strict parsers for manifests, indexes and image configs, in one import. The implementations live in
 * `parse-manifest.ts` and `parse-config.ts`; `parse-fields.ts` holds their internal helpers and is not exported.
 * @module
 */
export {
  MAX_MANIFEST_SIZE,
  parseIndex,
  parseManifest,
  parseManifestOrIndex,
  type ParseManifestOptions,
  type ParsedManifestOrIndex,
} from './parse-manifest.js';
export { MAX_IMAGE_CONFIG_SIZE, parseImageConfig, type ParseImageConfigOptions } from './parse-config.js';
