/** Placeholder for what a user passes to `engine.create(image, options)`; replaced by the full definition. */
export interface CreateOptions {
  [key: string]: unknown;
}
