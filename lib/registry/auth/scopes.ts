/**
 * Token scopes of the distribution token spec: `repository:<name>:<actions>`, `registry:catalog:*`. A challenge's
 * `scope` param may hold several, separated by spaces.
 */

/** The scope for a repository and actions, e.g. `repositoryScope('library/busybox', ['pull'])` → `repository:library/busybox:pull`. */
export function repositoryScope(name: string, actions: readonly string[]): string {
  return `repository:${name}:${actions.join(',')}`;
}

/** The scopes a challenge's `scope` param asks for (space-separated, empty ones dropped). */
export function splitScopeParam(param: string | undefined): string[] {
  return param === undefined ? [] : param.split(' ').filter((s) => s !== '');
}

/** The union of scope lists, without duplicates, sorted: the same set always gives the same list. */
export function mergeScopes(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())].sort();
}
