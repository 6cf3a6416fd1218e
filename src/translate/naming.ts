/** Names, hostnames and addresses of generated objects. All pure. */

/** `reviews.default.svc.cluster.local`: how the service's own cluster calls it. */
export function localFqdn(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`
}

/** `reviews.default.svc.kind3.global`: how other clusters of a VirtualMesh call it (Service Mesh Hub's convention). */
export function federatedFqdn(name: string, namespace: string, cluster: string): string {
  return `${name}.${namespace}.svc.${cluster}.global`
}

/** Envoy's cluster name for a host, as Istio builds it: `outbound|9080|version-v2|reviews.default.svc.cluster.local`. */
export function envoyClusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`
}

/** The SNI a serving gateway's AUTO_PASSTHROUGH chain answers for: `outbound_.9080_._.reviews.default.svc.cluster.local`. */
export function passthroughSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`
}

/** `{version: v2, zone: a}` → `version-v2_zone-a`, as Service Mesh Hub named subsets. */
export function subsetName(labels: Record<string, string> | undefined): string {
  if (!labels) return ''
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}-${labels[key]}`)
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
}

export function sanitize(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9.-]/g, '-')
}

/** FNV-1a, 32 bits: a stable hash with no dependency. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash >>> 0
}

/**
 * Gives each host a stable address in 240.0.0.0/4 (reserved, never routed): a hash of the host, and on a clash
 * with a host already placed the next free address. Call in a stable order (sorted hosts) for stable results.
 */
export class VirtualIpAllocator {
  private readonly used = new Set<number>()

  allocate(host: string): string {
    let value = fnv32a(host) & 0x0fffffff
    for (;;) {
      const low = value & 0xff
      if (low !== 0 && low !== 255 && !this.used.has(value)) break
      value = (value + 1) & 0x0fffffff
    }
    this.used.add(value)
    const ip = (0xf0000000 | value) >>> 0
    return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.')
  }
}

/**
 * Go-style durations (`2m`, `1h30m`, `500ms`) in the form every Istio version takes: protobuf JSON seconds
 * (`120s`, `0.5s`). Istio's protojson path rejects `2m`, its CRD CEL rules do not: seconds satisfy both.
 */
export function protoDuration(value: string): string {
  const units: Record<string, number> = {ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600}
  let seconds = 0
  for (const match of value.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g)) seconds += Number(match[1]) * units[match[2]]
  const rounded = Math.round(seconds * 1e9) / 1e9
  return `${Number.isInteger(rounded) ? rounded : Number(rounded.toFixed(9))}s`
}

export function durationSeconds(value: string): number {
  return Number(protoDuration(value).slice(0, -1))
}
