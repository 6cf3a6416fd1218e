import {resourceId} from '../api/types.js'
import type {VerbResult} from '../services/verbs/author.js'
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

/** -o json/yaml: the resources and notes, the sync's actions (not whole objects), and for a dry run the objects. */
export function verbData(result: VerbResult) {
  if (!result.sync) return result
  return {
    ...result,
    sync: {...result.sync, clusters: result.sync.clusters.map(({entries, ...c}) => ({...c, changes: entries.filter((e) => e.action !== 'unchanged').map((e) => ({action: e.action, object: e.key}))}))},
  }
}
