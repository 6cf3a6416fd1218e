/** Which SMH resources depend on which clusters (pure: resources in, ids out). */
import type {SmhResource} from '../api/types.js'
import {resourceId} from '../api/types.js'

/**
 * The resources whose output depends on any of `clusters`, each with those clusters: they name one, select in every
 * cluster, federate or fail over to one of its meshes, or shift traffic to a FailoverService that does. A mesh no
 * answering cluster has (not in `knownMeshes`) is taken as one of theirs. Sync holds such resources' objects as they
 * are while a cluster cannot be read: an API server that is down says nothing about its workloads.
 */
export function resourcesDependingOn(resources: SmhResource[], failed: Set<string>, knownMeshes: string[]): Map<string, Set<string>> {
  const held = new Map<string, Set<string>>()
  if (failed.size === 0) return held
  const meshes = new Set(knownMeshes)
  const all = [...failed]
  const hold = (id: string, clusters: Iterable<string>) => {
    const set = held.get(id) ?? new Set()
    for (const c of clusters) set.add(c)
    if (set.size) held.set(id, set)
  }
  const failoverIds = new Map<string, Set<string>>()
  for (const resource of resources) {
    const id = resourceId(resource)
    const named = new Set<string>()
    const selectors = (resource.spec as {destinationSelector?: unknown[]}).destinationSelector
    const selectsAll = (resource.kind === 'TrafficPolicy' || resource.kind === 'AccessPolicy') && !selectors?.length
    const unrestricted = walk(resource.spec, named) || selectsAll
    const clusters = unrestricted ? all : [...named].filter((c) => failed.has(c))
    // A mesh no healthy cluster has: one of the failed clusters' (names end with the cluster name, as in SMH).
    const meshRefs = (resource.spec as {meshes?: {name: string}[]}).meshes ?? []
    for (const mesh of meshRefs) {
      if (meshes.has(mesh.name)) continue
      const owner = all.filter((c) => mesh.name.endsWith(`-${c}`))
      clusters.push(...(owner.length ? owner : all))
    }
    if (resource.kind === 'KubernetesCluster' && failed.has(resource.metadata.name)) clusters.push(resource.metadata.name)
    hold(id, clusters)
    if (resource.kind === 'FailoverService') failoverIds.set(id, held.get(id) ?? new Set())
  }
  // A policy that shifts to a held FailoverService is held with it.
  for (const resource of resources) {
    if (resource.kind !== 'TrafficPolicy') continue
    for (const d of resource.spec.trafficShift?.destinations ?? []) {
      const ref = d.failoverServiceRef ?? d.failoverService
      if (!ref) continue
      const fs = failoverIds.get(`FailoverService/${ref.namespace ?? resource.metadata.namespace}/${ref.name}`)
      if (fs?.size) hold(resourceId(resource), fs)
    }
  }
  return held
}

/**
 * Collects the cluster names a spec names (`clusterName`, `clusters: [...]`) and says whether it has a matcher that
 * is not restricted to named clusters (it then selects in every cluster).
 */
function walk(value: unknown, named: Set<string>, key = ''): boolean {
  if (Array.isArray(value)) {
    if (key === 'clusters') {
      for (const c of value) if (typeof c === 'string') named.add(c)
      return false
    }
    return value.map((v) => walk(v, named, key)).some(Boolean)
  }
  if (value === null || typeof value !== 'object') {
    if (key === 'clusterName' && typeof value === 'string') named.add(value)
    return false
  }
  const object = value as Record<string, unknown>
  let unrestricted = (key === 'kubeServiceMatcher' || key === 'kubeIdentityMatcher') && !Array.isArray(object.clusters)
  for (const [k, v] of Object.entries(object)) if (walk(v, named, k)) unrestricted = true
  return unrestricted
}
