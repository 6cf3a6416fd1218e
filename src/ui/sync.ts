import type {ChalkInstance} from 'chalk'
import {createTwoFilesPatch} from 'diff'

import type {PlanEntry, PlanObject} from '../kube/plan.js'
import type {SyncResult} from '../services/sync.js'
import {renderTable, renderYaml} from './output.js'

/** One row per cluster: what was (or, with --dry-run, would be) done there. */
export function clusterTable(result: SyncResult): string {
  return renderTable(result.clusters, [
    {header: 'cluster', get: (c) => c.name},
    {header: 'result', get: (c) => (c.result === 'ok' && result.dryRun ? 'planned' : c.result)},
    {header: 'create', get: (c) => c.counts.create},
    {header: 'update', get: (c) => c.counts.update},
    {header: 'prune', get: (c) => c.counts.prune},
    {header: 'unchanged', get: (c) => c.counts.unchanged},
    {header: 'held', get: (c) => c.held},
  ])
}

/** The plan object by object (`--dry-run`): every create, update and prune, unchanged ones left out. */
export function planTable(result: SyncResult): string {
  const rows = result.clusters.flatMap((c) => c.entries.filter((e) => e.action !== 'unchanged').map((e) => ({cluster: c.name, ...e})))
  if (rows.length === 0) return 'no changes'
  return renderTable(rows, [
    {header: 'cluster', get: (r) => r.cluster},
    {header: 'action', get: (r) => r.action},
    {header: 'kind', get: (r) => r.object.kind},
    {header: 'namespace', get: (r) => r.object.metadata?.namespace},
    {header: 'name', get: (r) => r.object.metadata?.name},
  ])
}

/**
 * The trust step, one row per mesh of each virtual mesh: what happened to its intermediate (with --dry-run: what
 * would), until when it is valid, how it accepts the other meshes' trust domains, and what else changed.
 */
export function trustTable(result: SyncResult): string {
  const rows = result.trust.flatMap((t) => t.meshes.map((m) => ({t, m})))
  const lines: string[] = []
  if (rows.length) {
    lines.push(renderTable(rows, [
      {header: 'virtual mesh', get: ({t}) => t.virtualMesh.split('/').slice(1).join('/')},
      {header: 'mesh', get: ({m}) => m.mesh},
      {header: 'cluster', get: ({m}) => m.cluster},
      {header: 'intermediate', get: ({m}) => `${result.dryRun && (m.action === 'issued' || m.action === 'reissued') ? 'to be ' : ''}${m.errors?.length && m.action !== 'failed' ? `${m.action}, failed` : m.action}${m.reason ? ` (${m.reason})` : ''}`},
      {header: 'not after', get: ({m}) => m.notAfter?.slice(0, 10)},
      {header: 'accepts', get: ({m}) => Object.entries(m.acceptsTrustDomains).map(([d, via]) => `${d} ${via === 'missing' ? 'NOT ACCEPTED' : `via ${via === 'trustDomainAliases' ? 'aliases' : 'skip flag'}`}`).join(', ')},
      {header: 'changes', get: ({m}) => [...m.changes, ...(m.restarted.length ? [`${result.dryRun ? 'to restart' : 'restarted'} ${m.restarted.join(', ')}`] : []), ...(m.errors ?? [])].join('; ')},
    ]))
    for (const t of result.trust) {
      const root = t.root === 'generated' ? (result.dryRun ? 'to be generated' : 'generated') : t.root === 'kept' ? 'kept' : "the user's"
      lines.push(`${t.virtualMesh}: root ${t.rootSecret || '-'} ${root}${t.rootFingerprint ? ` (sha256 ${t.rootFingerprint.slice(0, 23)}…, not after ${t.rootNotAfter?.slice(0, 10)})` : ''}${t.error ? `: ${t.error}` : ''}`)
    }
  }
  for (const r of result.trustRemoved) lines.push(`${r.cluster}: ${r.error ? `FAILED to ${r.change}: ${r.error}` : r.change}`)
  return lines.join('\n')
}

export function statusRows(result: SyncResult): string {
  return renderTable(result.statuses, [
    {header: 'kind', get: (s) => s.kind},
    {header: 'namespace', get: (s) => s.namespace},
    {header: 'name', get: (s) => s.name},
    {header: 'state', get: (s) => s.state},
    {header: 'errors', get: (s) => [...(s.errors ?? []), ...(s.warnings ?? []).map((w) => `warning: ${w}`)].join('; ')},
  ])
}

/** What the user reads in a diff: no server-managed metadata. */
function readable(object: PlanObject | undefined): string {
  if (!object) return ''
  const {metadata, ...rest} = object
  const {managedFields: _m, resourceVersion: _r, uid: _u, generation: _g, creationTimestamp: _c, ...meta} = metadata ?? {}
  return `${renderYaml(sortedKeys({...rest, metadata: meta}))}\n`
}

/** Both sides of a diff in one key order, so only real changes show. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]))
}

/** Unified diffs per object, coloured when asked (a terminal). */
export function planDiff(result: SyncResult, color: ChalkInstance): string {
  const out: string[] = []
  for (const cluster of result.clusters) {
    for (const entry of cluster.entries as PlanEntry[]) {
      if (entry.action === 'unchanged') continue
      const before = entry.action === 'create' ? '' : readable(entry.current)
      const after = entry.action === 'prune' ? '' : readable(entry.object)
      const name = `${cluster.name}/${entry.key}`
      const patch = createTwoFilesPatch(entry.action === 'create' ? '/dev/null' : `a/${name}`, entry.action === 'prune' ? '/dev/null' : `b/${name}`, before, after, undefined, undefined, {context: 3})
      out.push(patch.split('\n').filter((l) => !l.startsWith('====')).map((line) => {
        if (line.startsWith('+++') || line.startsWith('---')) return color.bold(line)
        if (line.startsWith('+')) return color.green(line)
        if (line.startsWith('-')) return color.red(line)
        if (line.startsWith('@@')) return color.cyan(line)
        return line
      }).join('\n').trimEnd())
    }
  }
  return out.join('\n')
}
