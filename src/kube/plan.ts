/**
 * The plan of one cluster: desired objects against the managed objects it holds now → create / update / unchanged /
 * prune. Pure. "Unchanged" compares only what kubectl-smh owns (its managedFields entry), so fields another field
 * manager added beside ours do not make every sync write again, and an object whose fields we own all match makes
 * no request at all.
 */
import {FIELD_MANAGER} from './client.js'
import {objectKey} from './managed.js'

export type Action = 'create' | 'update' | 'unchanged' | 'prune'

export interface PlanObject {
  apiVersion?: string
  kind?: string
  metadata?: {
    name?: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    managedFields?: {manager?: string; operation?: string; subresource?: string; fieldsV1?: FieldSet}[]
    [key: string]: unknown
  }
  spec?: unknown
  [key: string]: unknown
}

export interface PlanEntry {
  action: Action
  key: string
  /** The object to apply (create, update) or the one to delete (prune, unchanged: the one that exists). */
  object: PlanObject
  /** What exists now (update, unchanged, prune). */
  current?: PlanObject
}

type FieldSet = {[key: string]: FieldSet}

export function planCluster(desired: PlanObject[], current: PlanObject[]): PlanEntry[] {
  const now = new Map(current.map((o) => [objectKey(o), o]))
  const entries: PlanEntry[] = []
  for (const object of desired) {
    const key = objectKey(object)
    const existing = now.get(key)
    now.delete(key)
    if (!existing) entries.push({action: 'create', key, object})
    else entries.push({action: ownedContentEquals(object, existing) ? 'unchanged' : 'update', key, object, current: existing})
  }
  for (const [key, object] of now) entries.push({action: 'prune', key, object, current: object})
  return entries
}

/**
 * Whether applying `desired` would change nothing: the labels, annotations and spec we own in `current` are exactly
 * those of `desired`. Without a managedFields entry of ours (an object someone else wrote), compare it whole.
 */
export function ownedContentEquals(desired: PlanObject, current: PlanObject): boolean {
  const ours = current.metadata?.managedFields?.find((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply' && !f.subresource)
  const fields = ours?.fieldsV1
  const view = (o: PlanObject, f?: FieldSet) => ({
    labels: project(o.metadata?.labels ?? {}, f?.['f:metadata']?.['f:labels']),
    annotations: project(o.metadata?.annotations ?? {}, f?.['f:metadata']?.['f:annotations']),
    spec: project(o.spec ?? {}, f?.['f:spec']),
  })
  if (!fields) return canonical(view(desired)) === canonical(view(current))
  return canonical(view(desired)) === canonical(view(current, fields))
}

/**
 * The part of `value` a field set names (server-side apply's fieldsV1: `f:<field>` for map keys; anything else,
 * such as `k:`/`v:` list items, means the list is not atomic and is kept whole). No set: the value whole.
 */
function project(value: unknown, fields: FieldSet | undefined): unknown {
  if (fields === undefined) return value
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const keys = Object.keys(fields).filter((k) => k !== '.')
  if (keys.length === 0) return value
  if (keys.some((k) => !k.startsWith('f:'))) return value
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const name = key.slice(2)
    if (!(name in (value as Record<string, unknown>))) continue
    out[name] = project((value as Record<string, unknown>)[name], fields[key])
  }
  return out
}

/** JSON with sorted keys: equal content, equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
  })
}

export function countActions(entries: PlanEntry[]): Record<Action, number> {
  const counts: Record<Action, number> = {create: 0, update: 0, unchanged: 0, prune: 0}
  for (const entry of entries) counts[entry.action]++
  return counts
}
