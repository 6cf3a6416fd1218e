/**
 * `kubectl smh sync` (DESIGN.md §3): SMH resources from the management cluster → discover every registered cluster
 * in parallel → translate → plan per cluster → server-side apply, prune → write each resource's status. Returns
 * what happened; prints nothing (progress goes through onProgress).
 */
import type {ResourceStatus, VirtualMesh} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {KubeObject, Mesh} from '../discovery/types.js'
import {ExitCode, SmhError, UsageError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {listAll} from '../kube/list.js'
import {CLUSTER_ANNOTATION, MANAGED_KINDS, MANAGED_SELECTOR, sourcesOf} from '../kube/managed.js'
import {type Action, type PlanEntry, type PlanObject, canonical, countActions, planCluster} from '../kube/plan.js'
import {type RegisteredCluster, type RegistryRead, readRegisteredClusters, reRegisterCommand} from '../kube/registry.js'
import {readClusterObjects} from '../kube/snapshot.js'
import {resourcesDependingOn} from '../translate/dependencies.js'
import {translate} from '../translate/index.js'
import {type ManagementResources, readManagementResources} from './management.js'
import {istioAccessOf} from './register.js'
import {type Acceptance, type TrustCleanup, type TrustResult, cleanupTrust, syncTrust} from './trust.js'

export type SyncState = 'ACCEPTED' | 'INVALID' | 'FAILED'

export interface StoredStatus {
  observedGeneration?: number
  state: SyncState
  errors?: string[]
  warnings?: string[]
  trafficTargets?: ResourceStatus['trafficTargets']
  meshes?: ResourceStatus['meshes']
  /** VirtualMesh: where its trust stands (facts, not what one sync did, so a no-op sync rewrites nothing). */
  trust?: TrustStatus
}

export interface TrustStatus {
  rootSecret: string
  rootFingerprint?: string
  rootNotAfter?: string
  meshes: Record<string, {cluster: string; trustDomain: string; intermediateNotAfter?: string; acceptsTrustDomains?: Record<string, Acceptance>; errors?: string[]}>
}

export interface ClusterOutcome {
  name: string
  /** ok: planned (and applied unless dry run); failed: could not be read or written; skipped: not in --cluster. */
  result: 'ok' | 'failed' | 'skipped'
  error?: string
  counts: Record<Action, number>
  /** Objects left as they are because a resource that made them depends on a cluster that could not be read. */
  held: number
  entries: PlanEntry[]
  /** Objects whose write failed (the cluster answered, the object was refused). */
  objectErrors: {key: string; error: string}[]
}

export interface SyncResult {
  dryRun: boolean
  clusters: ClusterOutcome[]
  statuses: SyncStatus[]
  /** The trust step of each accepted VirtualMesh that no failed cluster holds. */
  trust: TrustResult[]
  /** What was undone for VirtualMeshes that are gone or no longer name a mesh. */
  trustRemoved: TrustCleanup[]
  /** Some cluster failed its part, or the trust step could not finish (the command exits 1). */
  failed: boolean
}

export type SyncStatus = StoredStatus & {id: string; kind: string; namespace: string; name: string; written: boolean}

export type ProgressEvent = {cluster: string; phase: 'discover' | 'plan' | 'apply' | 'done' | 'failed'; message: string}

export interface SyncOptions {
  mgmt: ClusterClient
  /** --cluster: write only to these (discovery still reads every cluster, since translation needs them all). */
  only?: string[]
  dryRun?: boolean
  forceConflicts?: boolean
  onProgress?: (event: ProgressEvent) => void
  /** Resources to translate instead of reading them. */
  management?: ManagementResources
  /** Clusters already discovered (apply has just read them to validate). */
  discovered?: Discovered
}

export interface Discovered {
  registry: RegistryRead
  /** Cluster → its objects, for every cluster that answered. */
  snapshots: Record<string, KubeObject[]>
  /** Cluster → why it could not be read (unusable credentials, unreachable). */
  failures: Map<string, string>
}

/** Reads every registered cluster at once with its stored credentials; one that fails is noted, the others go on. */
export async function discoverRegistered(mgmt: ClusterClient, progress: (event: ProgressEvent) => void = () => {}): Promise<Discovered> {
  const registry = await readRegisteredClusters(mgmt, mgmt.options)
  const failures = new Map<string, string>(registry.unusable.map((u) => [u.name, u.message]))
  for (const u of registry.unusable) progress({cluster: u.name, phase: 'failed', message: u.message})
  const snapshots: Record<string, KubeObject[]> = {}
  await Promise.all(registry.clusters.map(async (cluster) => {
    progress({cluster: cluster.name, phase: 'discover', message: 'discovering'})
    try {
      snapshots[cluster.name] = await readClusterObjects(cluster.client)
    } catch (error) {
      const message = cluster.client.describe(error)
      failures.set(cluster.name, message)
      progress({cluster: cluster.name, phase: 'failed', message})
    }
  }))
  return {registry, snapshots, failures}
}

/** Writes per cluster at once: enough to hide latency, few enough not to crowd an API server. */
const WRITE_CONCURRENCY = 8

export async function sync(options: SyncOptions): Promise<SyncResult> {
  const {mgmt} = options
  const progress = options.onProgress ?? (() => {})
  const management = options.management ?? (await readManagementResources(mgmt))
  const discovered = options.discovered ?? (await discoverRegistered(mgmt, progress))
  const {registry, snapshots} = discovered
  const failures = new Map(discovered.failures)
  const registeredNames = [...registry.clusters.map((c) => c.name), ...registry.unusable.map((u) => u.name)].sort()
  for (const name of options.only ?? []) {
    if (!registeredNames.includes(name)) {
      throw new UsageError(`--cluster ${name}: no such registered cluster (registered: ${registeredNames.join(', ') || 'none'}): register it with kubectl smh register cluster ${name} --remote-context <context>`)
    }
  }
  const selected = (name: string) => !options.only?.length || options.only.includes(name)

  const translation = translate({resources: management.resources, snapshots})
  const held = resourcesDependingOn(management.resources, new Set(failures.keys()), translation.discovery.flatMap((d) => d.meshes.map((m) => m.name)))

  const failedSources = new Map<string, string[]>()
  const outcomes = await Promise.all(registeredNames.map((name) => syncCluster({
    name, cluster: registry.clusters.find((c) => c.name === name), failure: failures.get(name), selected: selected(name),
    desired: (translation.clusters[name] ?? []) as PlanObject[], held, options, progress, failedSources,
  })))
  for (const outcome of outcomes) if (outcome.result === 'failed') failures.set(outcome.name, outcome.error!)

  // Shared trust, after the Istio objects: every accepted VirtualMesh no failed cluster holds, then the undoing of
  // what VirtualMeshes that are gone (or dropped a mesh) left behind.
  const meshesByName = new Map(translation.discovery.flatMap((d) => d.meshes).map((m) => [m.name, m]))
  const writable = registry.clusters.filter((c) => snapshots[c.name] && !failures.has(c.name) && selected(c.name))
  const accepted = translation.statuses.filter((s) => s.kind === 'VirtualMesh' && s.state === 'ACCEPTED').map((s) => `${s.kind}/${s.namespace}/${s.name}`)
  const virtualMeshes = management.resources.filter((r): r is VirtualMesh => r.kind === 'VirtualMesh' && accepted.includes(resourceId(r)) && !held.has(resourceId(r)))
  const trust = await Promise.all(virtualMeshes.map(async (vm) => {
    const id = resourceId(vm)
    progress({cluster: id, phase: 'apply', message: options.dryRun ? 'trust (dry run)' : 'trust: root, intermediates, trust domains'})
    const result = await syncTrust({
      mgmt, virtualMesh: vm, dryRun: options.dryRun,
      meshes: vm.spec.meshes.map((ref) => meshesByName.get(ref.name)).filter((m): m is Mesh => m !== undefined),
      clients: new Map(registry.clusters.map((c) => [c.name, c.client])),
      selected,
      restartTargets: restartTargets(registry.clusters, snapshots, [...meshesByName.values()]),
      reRegister: (cluster) => reRegisterCommand(cluster, registry.clusters.find((c) => c.name === cluster)?.remoteContext),
    })
    const failedHere = result.error ?? result.meshes.flatMap((m) => m.errors ?? [])[0]
    progress({cluster: id, phase: failedHere ? 'failed' : 'done', message: failedHere ?? trustSummary(result)})
    return result
  }))
  const stored = [...management.stored.values()].filter((o) => o.kind === 'VirtualMesh') as {kind: string; metadata: {name: string; namespace?: string}; spec?: {meshes?: {name?: string}[]}}[]
  const trustRemoved = await cleanupTrust({
    mgmt, dryRun: options.dryRun,
    clusters: writable.map((c) => ({name: c.name, client: c.client, objects: snapshots[c.name], meshes: translation.discovery.find((d) => d.cluster === c.name)?.meshes ?? []})),
    virtualMeshes: new Map(stored.map((vm) => [resourceId(vm), new Set((vm.spec?.meshes ?? []).map((m) => m.name ?? ''))])),
  })

  const statuses = statusesOf(translation.statuses, management, held, failures, failedSources, trust)
  if (!options.dryRun) await writeStatuses(mgmt, management, statuses)

  const trustFailed = trust.some((t) => t.error || t.meshes.some((m) => m.errors?.length)) || trustRemoved.some((r) => r.error)
  return {dryRun: options.dryRun ?? false, clusters: outcomes, statuses, trust, trustRemoved, failed: outcomes.some((o) => o.result === 'failed') || trustFailed}
}

/** Mesh name → the Deployments a rollout restart reaches: istiod and the gateways in its Istio namespace. */
function restartTargets(clusters: RegisteredCluster[], snapshots: Record<string, KubeObject[]>, meshes: Mesh[]): Map<string, string[]> {
  const targets = new Map<string, string[]>()
  for (const cluster of clusters) {
    if (!snapshots[cluster.name]) continue
    const access = istioAccessOf(cluster.name, snapshots[cluster.name])
    for (const mesh of meshes.filter((m) => m.cluster === cluster.name)) {
      targets.set(mesh.name, [...(access.find((a) => a.namespace === mesh.installationNamespace)?.deployments ?? [mesh.istiodName])].sort())
    }
  }
  return targets
}

function trustSummary(result: TrustResult): string {
  const count = (action: string) => result.meshes.filter((m) => m.action === action).length
  const verb = result.dryRun ? 'to ' : ''
  return [`${result.dryRun ? '(dry run) ' : ''}root ${result.root === 'generated' ? `${verb}generate` : result.root}`,
    `${count('issued') + count('reissued')} intermediate(s) ${verb}issue${result.dryRun ? '' : 'd'}`, `${count('kept')} kept`].join(', ')
}

interface ClusterWork {
  name: string
  /** Undefined when its credentials are unusable. */
  cluster?: RegisteredCluster
  /** Why it could not be read, if it could not. */
  failure?: string
  selected: boolean
  desired: PlanObject[]
  held: Map<string, Set<string>>
  options: SyncOptions
  progress: (event: ProgressEvent) => void
  /** Filled in: SMH resource → the errors of its objects that were refused. */
  failedSources: Map<string, string[]>
}

/** One cluster's part: plan what is not held, apply it (unless a dry run), and say how it went. */
async function syncCluster(work: ClusterWork): Promise<ClusterOutcome> {
  const {name, cluster, options, progress} = work
  const outcome: ClusterOutcome = {name, result: 'ok', counts: {create: 0, update: 0, unchanged: 0, prune: 0}, held: 0, entries: [], objectErrors: []}
  if (work.failure !== undefined || !cluster) return {...outcome, result: 'failed', error: work.failure}
  if (!work.selected) return {...outcome, result: 'skipped'}
  try {
    progress({cluster: name, phase: 'plan', message: 'planning'})
    const current = await managedObjects(cluster)
    const isHeld = (o: PlanObject) => sourcesOf(o as never).some((s) => work.held.has(s))
    const planned = planCluster(work.desired.filter((o) => !isHeld(o)), current.filter((o) => !isHeld(o)))
    outcome.held = work.desired.filter(isHeld).length
    outcome.entries = planned
    outcome.counts = countActions(planned)
    if (!options.dryRun) {
      progress({cluster: name, phase: 'apply', message: summary(outcome.counts)})
      await applyPlan(cluster, planned, options.forceConflicts ?? false, outcome)
      const byKey = new Map(planned.map((e) => [e.key, e]))
      for (const {key, error} of outcome.objectErrors) {
        for (const source of sourcesOf((byKey.get(key)?.object ?? {}) as never)) work.failedSources.set(source, [...(work.failedSources.get(source) ?? []), error])
      }
      if (outcome.objectErrors.length) {
        outcome.result = 'failed'
        outcome.error = `${outcome.objectErrors.length} object${outcome.objectErrors.length === 1 ? '' : 's'} not written: ${outcome.objectErrors[0].error}`
      }
    }
  } catch (error) {
    outcome.result = 'failed'
    outcome.error = cluster.client.describe(error)
  }
  if (outcome.result === 'failed') progress({cluster: name, phase: 'failed', message: outcome.error!})
  else progress({cluster: name, phase: 'done', message: options.dryRun ? `${summary(outcome.counts)} (dry run)` : done(outcome.counts)})
  return outcome
}

/** Each resource's status: what translation said, unless a cluster it needs failed this time or its objects were refused. */
function statusesOf(translated: ResourceStatus[], management: ManagementResources, held: Map<string, Set<string>>, failures: Map<string, string>, failedSources: Map<string, string[]>, trust: TrustResult[]): SyncStatus[] {
  const trustById = new Map(trust.map((t) => [t.virtualMesh, t]))
  const generations = new Map(management.resources.map((r) => [resourceId(r), r.metadata.generation]))
  const statuses: SyncStatus[] = translated.map((s) => {
    const id = `${s.kind}/${s.namespace}/${s.name}`
    const stored: StoredStatus = {
      observedGeneration: generations.get(id),
      state: s.state,
      ...(s.errors.length ? {errors: s.errors} : {}),
      ...(s.warnings?.length ? {warnings: s.warnings} : {}),
      ...(s.trafficTargets ? {trafficTargets: s.trafficTargets} : {}),
      ...(s.meshes ? {meshes: s.meshes} : {}),
    }
    const heldBy = held.get(id)
    if (heldBy) {
      stored.state = 'FAILED'
      stored.errors = [...heldBy].sort().map((c) => `${failures.get(c) ?? `cluster "${c}" failed`}; its objects in other clusters were left as they were`)
    } else if (failedSources.has(id)) {
      stored.state = 'FAILED'
      stored.errors = [...(stored.errors ?? []), ...new Set(failedSources.get(id))]
    }
    const trusted = trustById.get(id)
    if (trusted) {
      stored.trust = trustStatus(trusted)
      const errors = [...(trusted.error ? [`trust: ${trusted.error}`] : []), ...trusted.meshes.flatMap((m) => m.errors ?? [])]
      if (errors.length) {
        stored.state = 'FAILED'
        stored.errors = [...(stored.errors ?? []), ...errors]
      }
    }
    return {...stored, id, kind: s.kind, namespace: s.namespace, name: s.name, written: false}
  })
  for (const bad of management.invalid) {
    const [kind, namespace, name] = bad.id.split('/')
    statuses.push({id: bad.id, kind, namespace, name, observedGeneration: bad.generation, state: 'INVALID', errors: bad.problems, written: false})
  }
  return statuses
}

/** A VirtualMesh's trust status: what is in place, nothing about one run (no actions, no times but the certificates'). */
function trustStatus(result: TrustResult): TrustStatus {
  return {
    rootSecret: result.rootSecret,
    ...(result.rootFingerprint ? {rootFingerprint: result.rootFingerprint} : {}),
    ...(result.rootNotAfter ? {rootNotAfter: result.rootNotAfter} : {}),
    meshes: Object.fromEntries(result.meshes.map((m) => [m.mesh, {
      cluster: m.cluster,
      trustDomain: m.trustDomain,
      ...(m.notAfter ? {intermediateNotAfter: m.notAfter} : {}),
      ...(Object.keys(m.acceptsTrustDomains).length ? {acceptsTrustDomains: m.acceptsTrustDomains} : {}),
      ...(m.errors?.length ? {errors: m.errors} : {}),
    }])),
  }
}

/**
 * A sync in which some cluster failed is a failed command (exit 1): one line, then one per cluster. So is one whose
 * trust step could not finish (a cacerts, an alias or a restart refused in a cluster, or no root): the line names
 * the clusters, the details say what and how to fix it.
 */
export function syncFailure(result: SyncResult | undefined): SmhError | undefined {
  const failed = result?.clusters.filter((c) => c.result === 'failed') ?? []
  const trustErrors = (result?.trust ?? []).flatMap((t) => [
    ...(t.error ? [{cluster: 'management', error: `${t.virtualMesh}: ${t.error}`}] : []),
    ...t.meshes.flatMap((m) => (t.error ? [] : (m.errors ?? []).map((error) => ({cluster: m.cluster, error})))),
  ])
  const cleanupErrors = (result?.trustRemoved ?? []).filter((r) => r.error).map((r) => ({cluster: r.cluster, error: `${r.change}: ${r.error}`}))
  const names = [...new Set([...failed.map((c) => c.name), ...trustErrors.map((e) => e.cluster), ...cleanupErrors.map((e) => e.cluster)])]
  if (!names.length) return undefined
  return new SmhError(`sync failed in ${names.length === 1 ? 'cluster' : 'clusters'} ${names.join(', ')}`, ExitCode.failed,
    [...failed.map((c) => c.error ?? ''), ...trustErrors.map((e) => e.error), ...cleanupErrors.map((e) => e.error)])
}

export function summary(counts: Record<Action, number>): string {
  return `${counts.create} to create, ${counts.update} to update, ${counts.prune} to prune, ${counts.unchanged} unchanged`
}

function done(counts: Record<Action, number>): string {
  return `created ${counts.create}, updated ${counts.update}, pruned ${counts.prune}, ${counts.unchanged} unchanged`
}

/** The objects kubectl-smh generated in one cluster (by label, then by the cluster annotation). */
async function managedObjects(cluster: RegisteredCluster): Promise<PlanObject[]> {
  const lists = await Promise.all(MANAGED_KINDS.map((k) => listAll(cluster.client, k.apiVersion, k.kind, {labelSelector: MANAGED_SELECTOR})))
  return (lists.flat() as PlanObject[]).filter((o) => (o.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? cluster.name) === cluster.name)
}

const KIND_RANK = new Map(MANAGED_KINDS.map((k, i) => [k.kind, i]))

/** Creates and updates first (in kind order: what others refer to comes first), then prunes in reverse. */
async function applyPlan(cluster: RegisteredCluster, entries: PlanEntry[], force: boolean, outcome: ClusterOutcome): Promise<void> {
  const writes = entries.filter((e) => e.action === 'create' || e.action === 'update')
    .sort((a, b) => KIND_RANK.get(a.object.kind!)! - KIND_RANK.get(b.object.kind!)!)
  const prunes = entries.filter((e) => e.action === 'prune')
    .sort((a, b) => KIND_RANK.get(b.object.kind!)! - KIND_RANK.get(a.object.kind!)!)
  const run = async (list: PlanEntry[], write: (e: PlanEntry) => Promise<unknown>) => {
    let next = 0
    await Promise.all(Array.from({length: Math.min(WRITE_CONCURRENCY, list.length)}, async () => {
      while (next < list.length) {
        const entry = list[next++]
        try {
          await write(entry)
        } catch (error) {
          if (isUnreachable(error)) throw error
          outcome.objectErrors.push({key: entry.key, error: `${entry.key}: ${cluster.client.describe(error)}`})
        }
      }
    }))
  }
  await run(writes, async (e) => {
    try {
      await cluster.client.apply(e.object as never, {force})
    } catch (error) {
      // Another sync created it between our read and our apply: apply again, now as an update.
      if ((error as {code?: number}).code !== 409 || !/already exists/i.test(JSON.stringify((error as {body?: unknown}).body ?? ''))) throw error
      await cluster.client.apply(e.object as never, {force})
    }
  })
  // Someone (another sync) removed it first: that is the state we want.
  await run(prunes, (e) => cluster.client.deleteIfExists(e.object as never))
}

/** A failure of the cluster, not of one object: stop writing there. */
function isUnreachable(error: unknown): boolean {
  const e = error as {code?: unknown; cause?: {code?: unknown}; name?: string; type?: string}
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)) return true
  if (e?.name === 'AbortError' || e?.type === 'aborted' || e?.type === 'system') return true
  return (error as {code?: number}).code === 401
}

/** Writes each status that differs from what is stored, through the status subresource (server-side apply). */
async function writeStatuses(mgmt: ClusterClient, management: ManagementResources, statuses: SyncResult['statuses']): Promise<void> {
  await Promise.all(statuses.map(async (status) => {
    const stored = management.stored.get(status.id) as {apiVersion: string; kind: string; metadata: {name: string; namespace: string}; status?: unknown} | undefined
    if (!stored) return
    const {id: _id, kind: _kind, namespace: _ns, name: _name, written: _written, ...body} = status
    if (canonical(stored.status ?? null) === canonical(body)) return
    try {
      await mgmt.apply({apiVersion: stored.apiVersion, kind: stored.kind, metadata: {name: stored.metadata.name, namespace: stored.metadata.namespace}, status: body} as never, {subresource: 'status', force: true})
      status.written = true
    } catch (error) {
      // Deleted meanwhile (another sync, a user): nothing to report on.
      if (isNotFound(error)) return
      throw mgmt.error(error)
    }
  }))
}

