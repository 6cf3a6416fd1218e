import {resourceId} from '../api/types.js'
import type {FederationEstimate, VerbResult} from '../services/verbs/author.js'
import {renderTable} from './output.js'
import {clusterTable, trustTable} from './sync.js'

/** What a verb prints: each resource and what happened to it, then the sync per cluster (or, dry run, the objects). */
export function verbTable(result: VerbResult): string {
  const actions = new Map((result.applied ?? []).map((a) => [a.resource, a.action]))
  const lines = result.resources.map((r) => {
    const action = actions.get(resourceId(r)) ?? 'written'
    return `${resourceId(r)} ${result.dryRun ? `would be ${action} (dry run)` : action}`
  })
  if (result.dryRun) {
    if (result.estimate) lines.unshift(estimateTable(result.estimate))
    const rows = Object.entries(result.objects ?? {}).flatMap(([cluster, objects]) => objects.map((o) => ({cluster, o})))
    lines.push(rows.length === 0 ? 'no Istio objects would be generated from it' : renderTable(rows, [
      {header: 'cluster', get: (r) => r.cluster},
      {header: 'kind', get: (r) => r.o.kind},
      {header: 'namespace', get: (r) => r.o.metadata.namespace},
      {header: 'name', get: (r) => r.o.metadata.name},
    ]))
  } else if (result.sync) {
    lines.push(clusterTable(result.sync))
    // The trust step runs in every sync: shown when this verb wrote a VirtualMesh or the step did more than keep.
    const sync = result.sync
    const eventful = sync.trustRemoved.length > 0 || sync.trust.some((t) => t.error || t.root === 'generated' || t.meshes.some((m) => m.action !== 'kept' || m.changes.length || m.errors?.length))
    if (eventful || result.resources.some((r) => r.kind === 'VirtualMesh')) lines.push(trustTable(sync))
  }
  return lines.join('\n')
}

const MODE_WORDS: Record<string, string> = {onDemand: 'on-demand', permissive: 'all (permissive)', none: 'none', selectors: 'selectors'}

/** The estimate of a VirtualMesh's federation: one row per member cluster. */
export function estimateTable(estimate: Pick<FederationEstimate, 'mode' | 'clusters'>): string {
  const head = `federation ${MODE_WORDS[estimate.mode] ?? estimate.mode}: estimate per cluster (Envoy clusters: outbound, per sidecar, counting every Service and generated ServiceEntry as visible)`
  if (estimate.clusters.length === 0) return `${head}
  no member cluster was discovered`
  return [head, renderTable(estimate.clusters, [
    {header: 'cluster', get: (c) => c.cluster},
    {header: 'objects', get: (c) => String(c.objects)},
    {header: 'of which federation', get: (c) => String(c.federationObjects)},
    {header: 'remote services', get: (c) => String(c.federatedServices)},
    {header: 'Envoy clusters/sidecar', get: (c) => String(c.envoyClustersPerSidecar)},
    {header: 'of which remote', get: (c) => String(c.federatedEnvoyClusters)},
  ])].join('\n')
}

/** -o json/yaml: the resources and notes, the sync's actions (not whole objects), and for a dry run the objects. */
export function verbData(result: VerbResult) {
  if (!result.sync) return result
  return {
    ...result,
    sync: {...result.sync, clusters: result.sync.clusters.map(({entries, ...c}) => ({...c, changes: entries.filter((e) => e.action !== 'unchanged').map((e) => ({action: e.action, object: e.key}))}))},
  }
}
