/**
 * What the verbs of issue 8 share (`create virtualmesh`, `add failoverservice`, `shift traffic`, `set outlier`,
 * `set route`, `allow access`): read what is stored and what discovery sees, check each flag against it (one line
 * naming the bad value, the flag and the nearest valid choice), and then either show what the new SMH resources
 * would produce (--dry-run) or write them through the same path as `apply -f`.
 *
 * The checks and builders are pure (a World in, resources or a UsageError out) so they are unit-tested without a
 * cluster; only readWorld and author do I/O.
 */
import {DURATION_PATTERN} from '../../api/schema.js'
import {NETWORKING_API_VERSION, SMH_NAMESPACE, type ClusterObjectRef, type ObjectRef, type SmhResource, resourceId} from '../../api/types.js'
import {discoverCluster} from '../../discovery/discover.js'
import type {ClusterDiscovery, Mesh, MeshService, Workload} from '../../discovery/types.js'
import {UsageError} from '../../errors.js'
import type {ClusterClient} from '../../kube/client.js'
import {sourcesOf} from '../../kube/managed.js'
import type {IstioObject} from '../../translate/index.js'
import type {estimateVirtualMesh} from '../../translate/estimate.js'

export type FederationEstimate = ReturnType<typeof estimateVirtualMesh>
import {type ManagementResources, readManagementResources} from '../management.js'
import {didYouMean, nearest} from '../../nearest.js'
import {type ApplyResult, applyResourceObjects, checkResourceObjects} from '../resources.js'
import {type Discovered, type ProgressEvent, type SyncResult, discoverRegistered} from '../sync.js'

/** What every verb's service takes besides its own flags. */
export interface VerbOptions {
  mgmt: ClusterClient
  /** -n/--namespace: where the new resource lives in the management cluster (default service-mesh-hub). */
  namespace?: string
  /** Print what would be written and generated; write nothing. */
  dryRun?: boolean
  /** Write the resources but do not sync. */
  noSync?: boolean
  forceConflicts?: boolean
  onProgress?: (event: ProgressEvent) => void
  /**
   * What readWorld returned, when the caller has read it already (the wizard: its choices, the --dry-run plan and
   * the write all use one read). Without it the verb reads it.
   */
  world?: LiveWorld
  /** Called with the plan before anything is written (create virtualmesh prints its estimate there). */
  onEstimate?: (plan: Plan) => void
}

/** What the verbs check flags against (pure data). */
export interface World {
  discovery: ClusterDiscovery[]
  /** The valid SMH resources stored in the management cluster. */
  resources: SmhResource[]
  /** Every registered cluster's name. */
  registered: string[]
  /** Registered clusters that could not be read, with why. */
  failures: Map<string, string>
}

/** The World as read from the clusters, with what author needs to write without reading again. */
export interface LiveWorld extends World {
  mgmt: ClusterClient
  stored: ManagementResources
  discovered: Discovered
}

/** What a verb returns: the resources it wrote (or would write), notes for stderr, and the sync or the objects. */
export interface VerbResult {
  dryRun: boolean
  /** The SMH resources written (or, with --dry-run, that would be). */
  resources: SmhResource[]
  /** What the verb chose or added for the user (a default mesh, a TrafficPolicy for outlier detection). */
  notes: string[]
  applied?: ApplyResult['applied']
  /** --dry-run: per cluster, the Istio objects generated from these resources. */
  objects?: Record<string, IstioObject[]>
  sync?: SyncResult
  /** create virtualmesh: what its federation costs per cluster, worked out before anything is written. */
  estimate?: FederationEstimate
}

/** Plain data out of a verb's pure part: the resources to write and what to tell the user. */
export interface Plan {
  resources: SmhResource[]
  notes: string[]
  estimate?: FederationEstimate
}

export async function readWorld(mgmt: ClusterClient, onProgress?: (event: ProgressEvent) => void): Promise<LiveWorld> {
  const stored = await readManagementResources(mgmt)
  const discovered = await discoverRegistered(mgmt, onProgress)
  const discovery = Object.keys(discovered.snapshots).sort().map((cluster) => discoverCluster(cluster, discovered.snapshots[cluster]))
  const registered = [...discovered.registry.clusters.map((c) => c.name), ...discovered.registry.unusable.map((u) => u.name)].sort()
  return {mgmt, stored, discovered, discovery, resources: stored.resources, registered, failures: discovered.failures}
}

/**
 * --dry-run: check as apply does (schema, references, the API server's dry run) and return the objects whose sources
 * annotation names the new resources. Otherwise write them as `apply -f` does and sync.
 */
export async function author(world: LiveWorld, plan: Plan, options: VerbOptions): Promise<VerbResult> {
  const write = {mgmt: world.mgmt, stored: world.stored, discovered: world.discovered, noSync: options.noSync, sync: {onProgress: options.onProgress, forceConflicts: options.forceConflicts}}
  if (options.dryRun) {
    const checked = await checkResourceObjects(plan.resources, write)
    const ids = new Set(plan.resources.map(resourceId))
    const objects = Object.fromEntries(Object.entries(checked.translation.clusters).map(([cluster, list]) => [cluster, list.filter((o) => sourcesOf(o).some((s) => ids.has(s)))]))
    const applied = plan.resources.map((r) => ({resource: resourceId(r), action: world.stored.stored.has(resourceId(r)) ? 'configured' as const : 'created' as const}))
    return {dryRun: true, resources: plan.resources, notes: plan.notes, applied, objects, ...(plan.estimate ? {estimate: plan.estimate} : {})}
  }
  options.onEstimate?.(plan)
  const result = await applyResourceObjects(plan.resources, write)
  return {dryRun: false, resources: plan.resources, notes: plan.notes, applied: result.applied, ...(result.sync ? {sync: result.sync} : {}), ...(plan.estimate ? {estimate: plan.estimate} : {})}
}

// ---- checks: each throws a one-line UsageError naming the value, the flag and the nearest valid choice ----

/** `--flag value: what; did you mean X?` */
export function badValue(flag: string, value: string, what: string, candidates?: Iterable<string>, none?: string): UsageError {
  return new UsageError(`${flag} ${value}: ${what}${candidates ? `; ${didYouMean(value, candidates, none)}` : ''}`)
}

/** Flags a verb needs that were not given: exit 2 naming each, with the way to get a wizard. */
export function missingFlags(missing: string[]): UsageError {
  return new UsageError(`missing ${missing.join(', ')} (or run on a terminal for a wizard)`)
}

export const serviceRef = (s: MeshService) => `${s.cluster}/${s.namespace}/${s.serviceName}`
const allServices = (world: World) => world.discovery.flatMap((d) => d.services)
const allMeshes = (world: World) => world.discovery.flatMap((d) => d.meshes)

/** The discovered cluster of that name; unknown or unreadable clusters are a usage error. */
function clusterOf(world: World, cluster: string, flag: string, value: string): ClusterDiscovery {
  const found = world.discovery.find((d) => d.cluster === cluster)
  if (found) return found
  const failure = world.failures.get(cluster)
  if (failure !== undefined) throw new UsageError(`${flag} ${value}: cluster ${cluster} could not be read (${failure}); fix it or leave it out`)
  throw badValue(flag, value, `no registered cluster "${cluster}"`, world.registered, 'no cluster is registered: kubectl smh register cluster NAME --remote-context CTX')
}

/** SERVICE as `CLUSTER/NS/SVC` or the discovered name (`reviews-default-kind2`). */
export function resolveService(world: World, value: string, flag: string): MeshService {
  const parts = value.split('/')
  if (parts.length === 3) {
    const [cluster, namespace, name] = parts
    const discovered = clusterOf(world, cluster, flag, value)
    const found = discovered.services.find((s) => s.namespace === namespace && s.serviceName === name)
    if (found) return found
    throw badValue(flag, value, `no service ${name} in namespace ${namespace} of cluster ${cluster}`, discovered.services.map(serviceRef), `cluster ${cluster} has no service in a mesh`)
  }
  if (parts.length === 1 && value !== '') {
    const found = allServices(world).find((s) => s.name === value)
    if (found) return found
    throw badValue(flag, value, 'no such service', allServices(world).map((s) => s.name), 'discovery found no service in a mesh in any registered cluster')
  }
  throw badValue(flag, value, 'expected CLUSTER/NAMESPACE/SERVICE or a discovered name such as reviews-default-kind2', allServices(world).map(serviceRef))
}

/** Several services, each once. */
export function resolveServices(world: World, values: string[], flag: string): MeshService[] {
  const seen = new Map<string, string>()
  return values.map((value) => {
    const service = resolveService(world, value, flag)
    const earlier = seen.get(service.name)
    if (earlier !== undefined) throw new UsageError(`${flag} ${value}: the same service as ${flag} ${earlier}; name each service once`)
    seen.set(service.name, value)
    return service
  })
}

export function resolveMesh(world: World, name: string, flag: string): Mesh {
  const found = allMeshes(world).find((m) => m.name === name)
  if (found) return found
  throw badValue(flag, name, 'no such mesh', allMeshes(world).map((m) => m.name), 'discovery found no mesh (istiod) in any registered cluster')
}

/** A workload's identity `CLUSTER/NS/SERVICEACCOUNT`, checked against the service accounts of discovered workloads. */
export function resolveIdentity(world: World, value: string, flag: string): ClusterObjectRef {
  const parts = value.split('/')
  const identities = (workloads: Workload[]) => [...new Set(workloads.map((w) => `${w.cluster}/${w.namespace}/${w.serviceAccountName}`))]
  const all = world.discovery.flatMap((d) => identities(d.workloads))
  if (parts.length !== 3 || parts.some((p) => p === '')) throw badValue(flag, value, 'expected CLUSTER/NAMESPACE/SERVICEACCOUNT', all)
  const [cluster, namespace, name] = parts
  const discovered = clusterOf(world, cluster, flag, value)
  if (discovered.workloads.some((w) => w.namespace === namespace && w.serviceAccountName === name)) return {name, namespace, clusterName: cluster}
  throw badValue(flag, value, `no workload in a mesh runs as service account ${name} in namespace ${namespace} of cluster ${cluster}`, identities(discovered.workloads), `cluster ${cluster} has no workload in a mesh`)
}

export const clusterObjectRef = (s: MeshService): ClusterObjectRef => ({name: s.serviceName, namespace: s.namespace, clusterName: s.cluster})
export const meshRef = (m: Mesh): ObjectRef => ({name: m.name, namespace: SMH_NAMESPACE})

const DURATION = new RegExp(DURATION_PATTERN)

/** A Go duration (10s, 500ms, 2m, 1h30m). */
export function checkDuration(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined
  if (DURATION.test(value)) return value
  const suggestion = /^\d+(\.\d+)?$/.test(value) ? `${value}s` : nearest(value, ['10s', '30s', '2m', '500ms'])
  throw new UsageError(`${flag} ${value}: not a duration (use a number with ns, us, ms, s, m or h); did you mean ${suggestion}?`)
}

/** An integer within bounds (oclif has parsed it as an integer already). */
export function checkRange(value: number | undefined, flag: string, min: number, max?: number): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    const nearestValid = value < min ? min : max!
    throw new UsageError(`${flag} ${value}: must be ${max === undefined ? `at least ${min}` : `from ${min} to ${max}`}; did you mean ${nearestValid}?`)
  }
  return value
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** The closest DNS name: lowercase, anything else than [a-z0-9.-] becomes `-`, no empty or dangling labels. */
export function asDnsName(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9.-]/g, '-').split('.').map((l) => l.replace(/^-+|-+$/g, '')).filter((l) => l !== '').join('.')
}

/** A resource name (metadata.name): a lowercase DNS name of at most 253 characters. */
export function checkName(value: string, flag: string): string {
  if (DNS_NAME.test(value) && value.length <= 253) return value
  throw new UsageError(`${flag} ${value}: not a lowercase DNS name (letters, digits, '-' and '.'); did you mean ${asDnsName(value) || 'a name such as reviews-outlier'}?`)
}

export function checkNamespace(value: string | undefined, flag = '-n/--namespace'): string {
  if (value === undefined) return SMH_NAMESPACE
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) && value.length <= 63) return value
  throw new UsageError(`${flag} ${value}: not a namespace name (a lowercase DNS label); did you mean ${asDnsName(value).replaceAll('.', '-') || SMH_NAMESPACE}?`)
}

/** A networking.smh.solo.io resource with the given kind, name, namespace and spec. */
export function resource<K extends 'TrafficPolicy' | 'FailoverService' | 'VirtualMesh' | 'AccessPolicy'>(kind: K, name: string, namespace: string, spec: unknown, annotations?: Record<string, string>) {
  return {apiVersion: NETWORKING_API_VERSION, kind, metadata: {name, namespace, ...(annotations ? {annotations} : {})}, spec} as unknown as Extract<SmhResource, {kind: K}>
}

/** The default name of a policy over services: `<svc>-<suffix>` when they share one service name; else --name is needed. */
export function defaultPolicyName(services: MeshService[], suffix: string, flagsHint: string): string {
  const names = [...new Set(services.map((s) => s.serviceName))]
  if (names.length === 1) return `${names[0]}-${suffix}`
  throw new UsageError(`--name is needed: the services have different names (${names.join(', ')}), so there is no default; e.g. ${flagsHint} --name ${names[0]}-${suffix}`)
}
