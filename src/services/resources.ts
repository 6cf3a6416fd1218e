/**
 * `apply -f`, `get`, `delete`: SMH resources in the management cluster. apply validates everything (schema, then
 * references against what discovery sees) before it writes anything.
 */
import {type LoadOptions, loadResources} from '../api/load.js'
import {type InputProblem, checkResources, formatNote, formatProblem} from '../api/parse.js'
import {KIND_SCHEMAS, type KindSchema} from '../api/schema.js'
import {SMH_NAMESPACE, type SmhResource, resourceId} from '../api/types.js'
import {UsageError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {type TranslateResult, translate} from '../translate/index.js'
import {type ManagementResources, apiVersionOf, listSmhKind, readManagementResources} from './management.js'
import {resourcesDependingOn} from '../translate/dependencies.js'
import {closeNames} from '../nearest.js'
import {type Discovered, type SyncOptions, type SyncResult, discoverRegistered, sync} from './sync.js'

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

export interface WriteOptions {
  mgmt: ClusterClient
  noSync?: boolean
  sync?: Omit<SyncOptions, 'mgmt' | 'management'>
  /** What is stored already, if the caller has just read it (a verb that validated against it). */
  stored?: ManagementResources
  /** The registered clusters, if the caller has just discovered them. */
  discovered?: Discovered
}

export interface ApplyOptions extends LoadOptions, WriteOptions {
  filenames: string[]
}

export interface ApplyResult {
  /** What was normalised on the way in (proto spellings → camelCase), one line each. */
  notes: string[]
  applied: {resource: string; action: 'created' | 'configured' | 'unchanged'}[]
  sync?: SyncResult
}

/** `apply -f`: load the files, then write their resources as applyResourceObjects does. */
export async function applyResources(options: ApplyOptions): Promise<ApplyResult> {
  const loaded = await loadResources(options.filenames, options)
  const notes = loaded.notes.map(formatNote)
  if (loaded.problems.length) throw invalid([...loaded.problems.map(formatProblem), ...notes.map((n) => `note: ${n}`)])
  const incoming = loaded.resources.map((r) => r.resource)
  if (incoming.length === 0) throw new UsageError(`no SMH resources in ${options.filenames.join(', ')}`)
  return {...(await applyResourceObjects(incoming, options)), notes}
}

export interface CheckedResources {
  /** What apply would write: each resource's id and its body (no status, metadata reduced to what the user sets). */
  bodies: {id: string; body: Record<string, unknown> & {metadata: {name: string; namespace: string}}}[]
  stored: ManagementResources
  discovered: Discovered
  /** The stored resources with these replacing their namesakes, translated with live discovery. */
  translation: TranslateResult
}

/**
 * Everything apply checks before it writes: the schema, every reference against what discovery sees (with the stored
 * resources, these replacing their namesakes), then the API server's own judgement (a server-side dry run of each).
 * Any problem is a UsageError listing them all; nothing is written.
 */
export async function checkResourceObjects(objects: SmhResource[], options: WriteOptions): Promise<CheckedResources> {
  const {mgmt} = options
  const checked = checkResources(objects.map((object) => ({object: object as unknown as Record<string, unknown>, origin: {file: 'input', line: 0}, lineOf: () => undefined})))
  if (checked.problems.length) throw invalid(checked.problems.map((p) => formatProblem({...p, file: undefined} as InputProblem)))
  const incoming = checked.resources.map((r) => r.resource)
  if (incoming.some((r) => r.kind === 'KubernetesCluster')) {
    throw new UsageError('KubernetesCluster resources are written by registration: use kubectl smh register cluster NAME --remote-context CTX')
  }

  // References are checked the way sync will see them: what is stored, with these replacing their namesakes.
  const stored = options.stored ?? (await readManagementResources(mgmt))
  const ids = new Set(incoming.map(resourceId))
  const merged = [...stored.resources.filter((r) => !ids.has(resourceId(r))), ...incoming]
  const discovered = options.discovered ?? (await discoverRegistered(mgmt))
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
  return {bodies, stored, discovered, translation}
}

/**
 * Writes SMH resources given as objects (what `apply -f` and the verbs write): checkResourceObjects, then the writes
 * (server-side apply), then a sync with the clusters already discovered.
 */
export async function applyResourceObjects(objects: SmhResource[], options: WriteOptions): Promise<ApplyResult> {
  const {mgmt} = options
  const {bodies, stored, discovered} = await checkResourceObjects(objects, options)
  const applied: ApplyResult['applied'] = []
  for (const {id, body} of bodies) {
    const before = stored.stored.get(id) as {metadata?: {resourceVersion?: string}} | undefined
    // The user's file wins, as with kubectl apply: take over fields someone else set.
    const after = await mgmt.apply<{apiVersion: string; kind: string; metadata: {resourceVersion?: string}}>(body as never, {force: true}).catch((error: unknown) => {
      throw mgmt.error(error)
    })
    applied.push({resource: id, action: !before ? 'created' : before.metadata?.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured'})
  }
  if (options.noSync) return {notes: [], applied}
  return {notes: [], applied, sync: await sync({...options.sync, mgmt, discovered})}
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
  const near = closeNames(name, existing)
  const where = namespace ? ` in namespace ${namespace}` : ''
  const hint = near.length ? `did you mean ${near.join(', ')}?` : existing.length ? `existing: ${[...new Set(existing)].slice(0, 10).join(', ')}` : `there is no ${kind.kind} at all`
  return new UsageError(`${kind.kind} "${name}" not found${where}: ${hint}`)
}
