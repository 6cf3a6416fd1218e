/**
 * Service Mesh Hub's names for discovered things: `sanitize("<name>-<namespace>-<cluster>")`. Sanitising makes a
 * DNS label: lowercase, anything else than [a-z0-9-] becomes `-` (so dots in cluster names are fine).
 */
export function sanitizeName(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]/g, '-')
}

export function discoveredName(name: string, namespace: string, cluster: string): string {
  return sanitizeName(`${name}-${namespace}-${cluster}`)
}
