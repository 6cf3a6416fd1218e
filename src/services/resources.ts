/**
 * `apply -f`, `get`, `delete`: SMH resources in the management cluster. apply validates everything (schema, then
 * references against what discovery sees) before it writes anything.
 */
import {type LoadOptions, loadResources} from '../api/load.js'
import {formatNote, formatProblem} from '../api/parse.js'
import {KIND_SCHEMAS, type KindSchema} from '../api/schema.js'
import {SMH_NAMESPACE, resourceId} from '../api/types.js'
import {UsageError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {translate} from '../translate/index.js'
import {apiVersionOf, listSmhKind, readManagementResources} from './management.js'
import {resourcesDependingOn} from '../translate/dependencies.js'
import {type SyncOptions, type SyncResult, discoverRegistered, sync} from './sync.js'

/** kubectl's names for each kind: plural, singular, short name (and `clusters` for KubernetesCluster, as meshctl). */
export function resolveKind(name: string): KindSchema {
  const wanted = name.toLowerCase()
  const kind = KIND_SCHEMAS.find((k) => [k.plural, k.kind.toLowerCase(), ...k.shortNames, ...(k.kind === 'KubernetesCluster' ? ['clusters', 'cluster'] : [])].includes(wanted))
  if (!kind) {
    const names = KIND_SCHEMAS.map((k) => `${k.plural} (${k.shortNames.join(', ')})`).join(', ')
    throw new UsageError(`unknown kind "${name}": use one of ${names}`)
  }
  return kind
}

export interface ApplyOptions extends LoadOptions {
  mgmt: ClusterClient
  filenames: string[]
  noSync?: boolean
  sync?: Omit<SyncOptions, 'mgmt' | 'management'>
}

export interface ApplyResult {
  /** What was normalised on the way in (proto spellings → camelCase), one line each. */
  notes: string[]
  applied: {resource: string; action: 'created' | 'configured' | 'unchanged'}[]
  sync?: SyncResult
}

export async function applyResources(options: ApplyOptions): Promise<ApplyResult> {
  const {mgmt} = options
  const loaded = await loadResources(options.filenames, options)
  const notes = loaded.notes.map(formatNote)
  if (loaded.problems.length) throw invalid([...loaded.problems.map(formatProblem), ...notes.map((n) => `note: ${n}`)])
  const incoming = loaded.resources.map((r) => r.resource)
  if (incoming.length === 0) throw new UsageError(`no SMH resources in ${options.filenames.join(', ')}`)
  if (incoming.some((r) => r.kind === 'KubernetesCluster')) {
    throw new UsageError('KubernetesCluster resources are written by registration: use kubectl smh register cluster NAME --remote-context CTX')
  }

  // References are checked the way sync will see them: what is stored, with these replacing their namesakes.
  const stored = await readManagementResources(mgmt)
  const ids = new Set(incoming.map(resourceId))
  const merged = [...stored.resources.filter((r) => !ids.has(resourceId(r))), ...incoming]
  const discovered = await discoverRegistered(mgmt)
  const translation = translate({resources: merged, snapshots: discovered.snapshots})
  const held = resourcesDependingOn(merged, new Set(discovered.failures.keys()), translation.discovery.flatMap((d) => d.meshes.map((m) => m.name)))
  const problems = translation.statuses
    .filter((s) => s.state === 'INVALID' && ids.has(`${s.kind}/${s.namespace}/${s.name}`) && !held.has(`${s.kind}/${s.namespace}/${s.name}`))
    .flatMap((s) => (s.errors.length ? s.errors : ['INVALID']).map((e) => `${s.kind}/${s.namespace}/${s.name}: ${e}`))
  if (problems.length) throw invalid(problems)

  // The API server judges every resource first (server-side dry run), so that one it refuses (a missing namespace,
  // a rule of the CRD) leaves none of the others written.
  const bodies = incoming.map((resource) => {
    const {status: _status, ...body} = resource
    const metadata = {name: resource.metadata.name, namespace: resource.metadata.namespace ?? SMH_NAMESPACE, ...(resource.metadata.labels ? {labels: resource.metadata.labels} : {}), ...(resource.metadata.annotations ? {annotations: resource.metadata.annotations} : {})}
    return {id: resourceId(resource), body: {...body, metadata}}
  })
  const refused: string[] = []
  for (const {id, body} of bodies) {
    try {
      await mgmt.apply(body as never, {force: true, dryRun: true})
    } catch (error) {
      if (!isNotFound(error)) refused.push(`${id}: ${mgmt.describe(error)}`)
      else refused.push(`${id}: namespace ${body.metadata.namespace} does not exist in the management cluster "${mgmt.context}": create it (kubectl create namespace ${body.metadata.namespace}) or use ${SMH_NAMESPACE}`)
    }
  }
  if (refused.length) throw invalid(refused)

  const applied: ApplyResult['applied'] = []
  for (const {id, body} of bodies) {
    const before = stored.stored.get(id) as {metadata?: {resourceVersion?: string}} | undefined
    // The user's file wins, as with kubectl apply: take over fields someone else set.
    const after = await mgmt.apply<{apiVersion: string; kind: string; metadata: {resourceVersion?: string}}>(body as never, {force: true}).catch((error: unknown) => {
      throw mgmt.error(error)
    })
    applied.push({resource: id, action: !before ? 'created' : before.metadata?.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured'})
  }
  if (options.noSync) return {notes, applied}
  return {notes, applied, sync: await sync({...options.sync, mgmt, discovered})}
}

function invalid(problems: string[]): UsageError {
  return new UsageError(`invalid input: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written`, problems)
}

export interface ListedResource {
  kind: string
  namespace: string
  name: string
  generation?: number
  observedGeneration?: number
  state?: string
  errors: string[]
  warnings: string[]
  createdAt?: string
  resource: Record<string, unknown>
}

/** `get KIND [NAME]`: the resources of one kind with their status, in every namespace unless one is given. */
export async function getResources(mgmt: ClusterClient, kindName: string, options: {name?: string; namespace?: string} = {}): Promise<ListedResource[]> {
  const kind = resolveKind(kindName)
  const items = (await listSmhKind(mgmt, kind)).map((resource) => {
    const metadata = resource.metadata as {name: string; namespace: string; generation?: number; creationTimestamp?: string}
    const status = (resource.status ?? {}) as {state?: string; observedGeneration?: number; errors?: string[]; warnings?: string[]}
    return {
      kind: kind.kind, namespace: metadata.namespace, name: metadata.name, generation: metadata.generation,
      observedGeneration: status.observedGeneration, state: status.state, errors: status.errors ?? [], warnings: status.warnings ?? [],
      createdAt: metadata.creationTimestamp, resource,
    }
  }).filter((r) => !options.namespace || r.namespace === options.namespace)
    .sort((a, b) => (a.namespace + '/' + a.name < b.namespace + '/' + b.name ? -1 : 1))
  if (!options.name) return items
  const found = items.filter((r) => r.name === options.name)
  if (found.length === 0) throw notFound(kind, options.name, items.map((r) => r.name), options.namespace)
  return found
}

export interface DeleteResult {
  deleted: string
  sync?: SyncResult
}

export async function deleteResource(mgmt: ClusterClient, kindName: string, name: string, options: {namespace?: string; noSync?: boolean; sync?: Omit<SyncOptions, 'mgmt' | 'management'>} = {}): Promise<DeleteResult> {
  const kind = resolveKind(kindName)
  if (kind.kind === 'KubernetesCluster') throw new UsageError(`a registration is removed with kubectl smh deregister cluster ${name} (it also removes what was generated there)`)
  const matches = await getResources(mgmt, kindName, {name, namespace: options.namespace})
  if (matches.length > 1) {
    throw new UsageError(`${kind.kind} "${name}" exists in several namespaces (${matches.map((m) => m.namespace).join(', ')}): pass -n NAMESPACE`)
  }
  const target = matches[0]
  await mgmt.deleteIfExists({apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: {name, namespace: target.namespace}}).catch((error: unknown) => {
    throw mgmt.error(error)
  })
  const deleted = `${kind.kind}/${target.namespace}/${name}`
  if (options.noSync) return {deleted}
  return {deleted, sync: await sync({...options.sync, mgmt})}
}

/** Not found: exit 2 with the names that come closest (kubectl-style "did you mean"). */
function notFound(kind: KindSchema, name: string, existing: string[], namespace?: string): UsageError {
  const near = [...new Set(existing)].map((n) => ({n, d: distance(n, name)})).filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3))).sort((a, b) => a.d - b.d).slice(0, 3).map((x) => x.n)
  const where = namespace ? ` in namespace ${namespace}` : ''
  const hint = near.length ? `did you mean ${near.join(', ')}?` : existing.length ? `existing: ${[...new Set(existing)].slice(0, 10).join(', ')}` : `there is no ${kind.kind} at all`
  return new UsageError(`${kind.kind} "${name}" not found${where}: ${hint}`)
}

function distance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]
}

