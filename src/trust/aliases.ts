/**
 * Trust domains across a virtual mesh (notes/trust.md §4): a sidecar accepts a peer only when the peer's SPIFFE
 * trust domain is its mesh's `trustDomain` or one of `trustDomainAliases` (unless istiod skips the check). The trust
 * step merges the other meshes' trust domains into each mesh config's `trustDomainAliases` and records, in an
 * annotation on that ConfigMap, which aliases it added for which VirtualMesh, so that undoing removes exactly those
 * and never the user's own. Pure: YAML text and annotation in, YAML text and annotation out.
 */
import {isSeq, parseDocument, Scalar, type YAMLSeq} from 'yaml'

/** On the mesh config ConfigMap: JSON `{"<VirtualMesh id>": ["kind2"]}`, the aliases kubectl-smh added for each. */
export const ALIASES_ANNOTATION = 'smh.solo.io/trust-domain-aliases'

/** VirtualMesh id → the aliases kubectl-smh added for it. */
export type AliasRecord = Record<string, string[]>

/** The record an annotation holds; anything unreadable counts as nothing recorded. */
export function parseAliasRecord(value: string | undefined): AliasRecord {
  if (!value) return {}
  try {
    const parsed = JSON.parse(value) as unknown
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {}
    const record: AliasRecord = {}
    for (const [id, aliases] of Object.entries(parsed)) {
      if (Array.isArray(aliases)) record[id] = aliases.filter((a): a is string => typeof a === 'string' && a !== '')
    }
    return record
  } catch {
    return {}
  }
}

function formatRecord(record: AliasRecord): string | null {
  const ids = Object.keys(record).filter((id) => record[id].length > 0).sort()
  return ids.length ? JSON.stringify(Object.fromEntries(ids.map((id) => [id, [...record[id]].sort()]))) : null
}

/** The `trustDomainAliases` of a mesh config (YAML); throws on YAML that does not parse. */
export function aliasesOf(meshYaml: string): string[] {
  const doc = parseDocument(meshYaml)
  if (doc.errors.length) throw new Error(`its mesh config is not valid YAML (${doc.errors[0].message.split('\n')[0]})`)
  const value = (doc.toJS() as {trustDomainAliases?: unknown} | null)?.trustDomainAliases
  return Array.isArray(value) ? value.filter((a): a is string => typeof a === 'string') : []
}

export interface AliasPlan {
  /** The mesh config with the change (the same text when the aliases do not change). */
  meshYaml: string
  /** The annotation's new value; null: remove it. */
  annotation: string | null
  /** Aliases after the change. */
  aliases: string[]
  added: string[]
  removed: string[]
  /** The ConfigMap must be written (the aliases or the record differ). */
  changed: boolean
}

/**
 * Sets what kubectl-smh adds for some VirtualMeshes: `changes` maps a VirtualMesh id to the trust domains it needs
 * this mesh to accept (its record becomes those not already among the user's own aliases), or to undefined to take
 * back what it added. Records of VirtualMeshes not in `changes` stay. The user's aliases (present but recorded for
 * no VirtualMesh) are never removed; the rest of the YAML is kept as written (comments, order, style).
 */
export function planAliases(meshYaml: string, annotation: string | undefined, changes: Map<string, string[] | undefined>): AliasPlan {
  const doc = parseDocument(meshYaml)
  if (doc.errors.length) throw new Error(`its mesh config is not valid YAML (${doc.errors[0].message.split('\n')[0]})`)
  const current = aliasesOf(meshYaml)
  const record = parseAliasRecord(annotation)
  const oursBefore = new Set(Object.values(record).flat())
  const users = current.filter((a) => !oursBefore.has(a))
  const next: AliasRecord = {}
  for (const [id, aliases] of Object.entries(record)) if (!changes.has(id)) next[id] = aliases
  for (const [id, wanted] of changes) {
    const mine = [...new Set(wanted ?? [])].filter((a) => !users.includes(a)).sort()
    if (mine.length) next[id] = mine
  }
  const oursAfter = new Set(Object.values(next).flat())
  const kept = current.filter((a) => users.includes(a) || oursAfter.has(a))
  const appended = [...oursAfter].filter((a) => !kept.includes(a)).sort()
  const aliases = [...kept, ...appended]
  const added = aliases.filter((a) => !current.includes(a))
  const removed = current.filter((a) => !aliases.includes(a))

  let text = meshYaml
  if (added.length || removed.length) {
    const node = doc.get('trustDomainAliases', true)
    if (aliases.length === 0) {
      doc.delete('trustDomainAliases')
    } else if (isSeq(node)) {
      // Edit the list in place: its style and comments stay.
      const seq = node as YAMLSeq
      seq.items = seq.items.filter((item) => {
        const value = item instanceof Scalar ? item.value : item
        return typeof value !== 'string' || aliases.includes(value)
      })
      for (const alias of appended) seq.items.push(doc.createNode(alias))
    } else {
      doc.set('trustDomainAliases', aliases)
    }
    text = doc.toString({lineWidth: 0})
  }
  const after = formatRecord(next)
  return {meshYaml: text, annotation: after, aliases, added, removed, changed: text !== meshYaml || (annotation ?? null) !== after}
}
