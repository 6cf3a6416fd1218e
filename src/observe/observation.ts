/**
 * What the observing commands (describe, check, simulate; issue 10) read from the live clusters, as plain data: the
 * registrations, discovery, the stored SMH resources with their statuses, the translation of those resources (the
 * objects sync generates, per cluster, with their sources annotation), ready endpoints, the generated objects as they
 * are in each cluster (who manages them) and each virtual mesh's certificates. The models that answer the commands
 * are pure functions of it (describe.ts, check.ts, simulate.ts); src/services/observe.ts gathers it.
 */
import type {ResourceStatus, SmhResource} from '../api/types.js'
import type {ClusterDiscovery, KubeObject, MeshService} from '../discovery/types.js'
import type {StoredStatus} from '../services/sync.js'
import type {IstioObject} from '../translate/index.js'
import {type ClusterEstimate, estimateFederation} from '../translate/estimate.js'
import {translate} from '../translate/index.js'

export interface ClusterFacts {
  name: string
  server?: string
  remoteContext?: string
  /** When the stored token expires (RFC 3339), as register cluster recorded it. */
  tokenExpires?: string
  /** It could not be read with its stored credentials: why, with the fix. */
  error?: string
  /** The API server's gitVersion (`v1.37.2`). */
  apiServerVersion?: string
  /** The objects kubectl-smh generated there, as they are now; undefined when they could not be listed. */
  live?: LiveObject[]
}

export interface LiveObject {
  /** `Kind/namespace/name` */
  key: string
  sources: string[]
  /** Field managers other than kubectl-smh that own fields of its spec, labels or annotations. */
  otherManagers: {manager: string; operation: string}[]
}

/** One mesh's plug-in CA (`cacerts`) as read with the registered identity (no key material kept). */
export interface MeshCa {
  mesh: string
  cluster: string
  namespace: string
  /** false: no Secret cacerts. */
  present: boolean
  /** Could not be read (forbidden, unreachable). */
  error?: string
  /** SHA-256 fingerprint of its root-cert.pem. */
  rootFingerprint?: string
  /** The intermediate (ca-cert.pem). */
  notAfter?: string
  daysLeft?: number
  /** Signed by the virtual mesh's root, and its root-cert.pem is that root. */
  chainsToRoot?: boolean
}

export interface VirtualMeshTrust {
  /** `VirtualMesh/ns/name` */
  virtualMesh: string
  rootSecret?: string
  rootFingerprint?: string
  rootNotAfter?: string
  /** The root could not be read (missing, forbidden). */
  rootError?: string
  meshes: MeshCa[]
}

export interface StoredResource {
  id: string
  kind: string
  namespace: string
  name: string
  generation?: number
  status?: StoredStatus
}

/** Ready and total pods behind a service, with each pod's labels (for subsets). */
export interface Endpoints {
  ready: number
  total: number
  pods: {name: string; ready: boolean; labels: Record<string, string>}[]
}

export interface Observation {
  /** When it was read (RFC 3339): every "days left" is counted from here. */
  now: string
  mgmt: {context: string; error?: string; crdsInstalled: boolean}
  clusters: ClusterFacts[]
  discovery: ClusterDiscovery[]
  /** Discovered service name (`reviews-default-kind2`) → its endpoints. */
  endpoints: Record<string, Endpoints>
  resources: SmhResource[]
  stored: StoredResource[]
  invalid: {id: string; generation?: number; problems: string[]}[]
  /** What sync generates now: cluster → objects (the sources annotation names the SMH resources). */
  objects: Record<string, IstioObject[]>
  /** What translation says of each resource now. */
  statuses: ResourceStatus[]
  trust: VirtualMeshTrust[]
}

const podReady = (pod: KubeObject) => pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c: {type?: string; status?: string}) => c.type === 'Ready' && c.status === 'True')

const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels?.[k] === v)

/** The pods each discovered service selects (what its Endpoints would hold: a Service's selector over Pods). */
export function endpointsOf(discovery: ClusterDiscovery[], snapshots: Record<string, KubeObject[]>): Record<string, Endpoints> {
  const out: Record<string, Endpoints> = {}
  for (const cluster of discovery) {
    const pods = (snapshots[cluster.cluster] ?? []).filter((o) => o.kind === 'Pod' && !o.metadata.annotations?.['deletionTimestamp'])
    for (const service of cluster.services) out[service.name] = endpointsFor(service, pods)
  }
  return out
}

function endpointsFor(service: MeshService, pods: KubeObject[]): Endpoints {
  if (!Object.keys(service.selector).length) return {ready: 0, total: 0, pods: []}
  const selected = pods.filter((p) => (p.metadata.namespace ?? 'default') === service.namespace && matches(p.metadata.labels, service.selector))
    .map((p) => ({name: p.metadata.name, ready: podReady(p), labels: p.metadata.labels ?? {}}))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
  return {ready: selected.filter((p) => p.ready).length, total: selected.length, pods: selected}
}

/** Ready pods of a service that carry a subset's labels. */
export function readyIn(endpoints: Endpoints | undefined, subset?: Record<string, string>): number {
  return (endpoints?.pods ?? []).filter((p) => p.ready && matches(p.labels, subset ?? {})).length
}

export interface ObservationInput {
  now?: Date
  mgmt?: Observation['mgmt']
  clusters?: ClusterFacts[]
  resources: SmhResource[]
  snapshots: Record<string, KubeObject[]>
  stored?: StoredResource[]
  invalid?: Observation['invalid']
  trust?: VirtualMeshTrust[]
}

/** Discovery, translation and endpoints from what was read (pure: the unit tests build one from the golden cases). */
export function buildObservation(input: ObservationInput): Observation {
  const translation = translate({resources: input.resources, snapshots: input.snapshots, validate: false})
  const clusters = input.clusters ?? Object.keys(input.snapshots).sort().map((name) => ({name}))
  return {
    now: (input.now ?? new Date()).toISOString(),
    mgmt: input.mgmt ?? {context: 'management', crdsInstalled: true},
    clusters,
    discovery: translation.discovery,
    endpoints: endpointsOf(translation.discovery, input.snapshots),
    resources: input.resources,
    stored: input.stored ?? [],
    invalid: input.invalid ?? [],
    objects: translation.clusters,
    statuses: translation.statuses,
    trust: input.trust ?? [],
  }
}

export const allServices = (o: Pick<Observation, 'discovery'>) => o.discovery.flatMap((d) => d.services)
export const allMeshes = (o: Pick<Observation, 'discovery'>) => o.discovery.flatMap((d) => d.meshes)
export const serviceRef = (s: MeshService) => `${s.cluster}/${s.namespace}/${s.serviceName}`

/** What the federation of what is stored costs in each cluster now (objects, Envoy clusters per sidecar). */
export function estimateOf(observation: Observation): ClusterEstimate[] {
  return estimateFederation({clusters: observation.objects, discovery: observation.discovery})
}
