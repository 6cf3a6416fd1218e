/**
 * `kubectl smh describe KIND NAME` (issue 10): pure functions from an Observation to what is shown about one
 * service, FailoverService, VirtualMesh, registered cluster or TrafficPolicy. Names are resolved here: an unknown
 * one is a UsageError (exit 2) naming the nearest names that exist.
 */
import type {FailoverService, FederationMode, ResourceStatus, SmhResource, TrafficPolicy, VirtualMesh} from '../api/types.js'
import {SMH_NAMESPACE, federationMode, resourceId} from '../api/types.js'
import type {MeshService, ServicePort} from '../discovery/types.js'
import {UsageError} from '../errors.js'
import {closeNames} from '../nearest.js'
import type {IstioObject} from '../translate/index.js'
import type {ClusterEstimate} from '../translate/estimate.js'
import {acceptanceOrder} from '../translate/model.js'
import {federatedFqdn, localFqdn} from '../translate/naming.js'
import {type Observation, type StoredResource, allMeshes, allServices, estimateOf, readyIn, serviceRef} from './observation.js'

export const DESCRIBE_KINDS = ['service', 'failoverservice', 'virtualmesh', 'cluster', 'trafficpolicy'] as const
export type DescribeKind = (typeof DESCRIBE_KINDS)[number]

const KIND_ALIASES: Record<string, DescribeKind> = {
  service: 'service', services: 'service', svc: 'service',
  failoverservice: 'failoverservice', failoverservices: 'failoverservice', fs: 'failoverservice',
  virtualmesh: 'virtualmesh', virtualmeshes: 'virtualmesh', vm: 'virtualmesh',
  cluster: 'cluster', clusters: 'cluster', kubernetescluster: 'cluster', kc: 'cluster',
  trafficpolicy: 'trafficpolicy', trafficpolicies: 'trafficpolicy', tp: 'trafficpolicy',
}

export function describeKind(value: string): DescribeKind {
  const kind = KIND_ALIASES[value.toLowerCase()]
  if (kind) return kind
  const near = closeNames(value.toLowerCase(), Object.keys(KIND_ALIASES), 1)
  throw new UsageError(`KIND ${value}: not one of ${DESCRIBE_KINDS.join(', ')}${near.length ? `; did you mean ${KIND_ALIASES[near[0]]}?` : ''}`)
}

/** An object generated for the thing described, in one cluster; `live` says whether it is there now (when read). */
export interface GeneratedRef {
  cluster: string
  kind: string
  namespace: string
  name: string
  sources: string[]
  live?: boolean
}

export interface StatusView {
  /** What the stored status says (written by the last sync). */
  state?: string
  observedGeneration?: number
  generation?: number
  errors: string[]
  warnings: string[]
  /** What translation says now, when it differs from what is stored (a sync would change it). */
  pending?: string
}

export interface ServiceDescription {
  kind: 'service'
  name: string
  ref: string
  cluster: string
  namespace: string
  mesh: string
  ports: ServicePort[]
  subsets: Record<string, string[]>
  /** Ready endpoints of this service, and of the services with its name and namespace in the other clusters. */
  endpoints: {cluster: string; service: string; ready: number; total: number}[]
  /** The TrafficPolicies that select it, in their order of acceptance; `lost` when its part was refused (a conflict). */
  policies: {id: string; order: number; state: string; errors: string[]}[]
  accessPolicies: {id: string; state: string}[]
  failoverServices: {id: string; hostname: string; priority: number; of: number; state: string}[]
  generated: GeneratedRef[]
}

export interface FailoverServiceDescription {
  kind: 'failoverservice'
  id: string
  hostname: string
  port: {number: number; protocol?: string}
  meshes: string[]
  status: StatusView
  backing: {priority: number; service: string; cluster: string; found: boolean; ready: number; total: number; outlierDetection?: Record<string, unknown>}[]
  /** The first backing service with ready endpoints: where requests go while all are healthy. */
  servingNow?: string
  generated: GeneratedRef[]
}

export interface VirtualMeshDescription {
  kind: 'virtualmesh'
  id: string
  status: StatusView
  root: {secret?: string; fingerprint?: string; notAfter?: string; error?: string}
  meshes: {mesh: string; cluster: string; trustDomain?: string; istioVersion?: string; intermediate?: {present: boolean; notAfter?: string; daysLeft?: number; chainsToRoot?: boolean; error?: string}; acceptsTrustDomains?: Record<string, string>}[]
  /** Which services are visible where: a federated hostname per service, and the clusters that resolve it. */
  federation: {service: string; hostname: string; visibleIn: string[]}[]
  /** Its federation mode and what it costs in each member cluster (issue 11's estimate, as create virtualmesh prints it). */
  estimate: {mode: FederationMode; clusters: ClusterEstimate[]}
  generated: GeneratedRef[]
}

export interface ClusterDescription {
  kind: 'cluster'
  name: string
  server?: string
  remoteContext?: string
  tokenExpires?: string
  tokenDaysLeft?: number
  error?: string
  apiServerVersion?: string
  meshes: {name: string; namespace: string; istioVersion: string; trustDomain: string; gateways: {service: string; address?: string; port?: number}[]}[]
  services: number
  generated: {count: number; live?: number}
}

export interface TrafficPolicyDescription {
  kind: 'trafficpolicy'
  id: string
  order: number
  status: StatusView
  targets: {service: string; state: string; errors: string[]}[]
  generated: GeneratedRef[]
}

export type Description = ServiceDescription | FailoverServiceDescription | VirtualMeshDescription | ClusterDescription | TrafficPolicyDescription

export function describe(observation: Observation, kindName: string, name: string): Description {
  const kind = describeKind(kindName)
  switch (kind) {
    case 'service': return describeServiceNamed(observation, name)
    case 'failoverservice': return describeFailoverService(observation, findResource<FailoverService>(observation, 'FailoverService', name))
    case 'virtualmesh': return describeVirtualMesh(observation, findResource<VirtualMesh>(observation, 'VirtualMesh', name))
    case 'trafficpolicy': return describeTrafficPolicy(observation, findResource<TrafficPolicy>(observation, 'TrafficPolicy', name))
    case 'cluster': return describeCluster(observation, name)
  }
}

function notFound(what: string, name: string, candidates: string[]): UsageError {
  const near = closeNames(name, candidates)
  const hint = near.length ? `; nearest: ${near.join(', ')}` : candidates.length ? `; there are: ${candidates.slice(0, 5).join(', ')}${candidates.length > 5 ? ', ...' : ''}` : '; there are none'
  return new UsageError(`${what} ${name} not found${hint}`)
}

/** NAME or NAMESPACE/NAME of a stored resource of one kind. */
export function findResource<R extends SmhResource>(observation: Observation, kind: R['kind'], name: string): R {
  const all = observation.resources.filter((r): r is R => r.kind === kind)
  const [ns, n] = name.includes('/') ? name.split('/', 2) : [undefined, name]
  const found = all.filter((r) => r.metadata.name === n && (ns === undefined || (r.metadata.namespace ?? SMH_NAMESPACE) === ns))
  if (found.length === 1) return found[0]
  if (found.length > 1) throw new UsageError(`${kind} ${name} is in several namespaces (${found.map((r) => r.metadata.namespace).join(', ')}): give NAMESPACE/${name}`)
  const candidates = [...all.map((r) => r.metadata.name), ...all.map((r) => `${r.metadata.namespace ?? SMH_NAMESPACE}/${r.metadata.name}`)]
  throw notFound(kind, name, ns === undefined ? all.map((r) => r.metadata.name) : candidates)
}

/** SERVICE as CLUSTER/NS/SVC or the discovered name. */
export function findService(observation: Observation, name: string, what = 'service'): MeshService {
  const services = allServices(observation)
  const found = services.find((s) => serviceRef(s) === name || s.name === name)
  if (found) return found
  const parts = name.split('/')
  if (parts.length === 3 && !observation.discovery.some((d) => d.cluster === parts[0])) {
    const failed = observation.clusters.find((c) => c.name === parts[0])?.error
    if (failed) throw new UsageError(`${what} ${name}: cluster ${parts[0]} could not be read (${failed})`)
  }
  throw notFound(what, name, parts.length === 3 ? services.map(serviceRef) : services.map((s) => s.name))
}

const statusOf = (observation: Observation, id: string): ResourceStatus | undefined => observation.statuses.find((s) => `${s.kind}/${s.namespace}/${s.name}` === id)
const storedOf = (observation: Observation, id: string): StoredResource | undefined => observation.stored.find((s) => s.id === id)

function statusView(observation: Observation, id: string): StatusView {
  const stored = storedOf(observation, id)
  const now = statusOf(observation, id)
  const invalid = observation.invalid.find((i) => i.id === id)
  const view: StatusView = {
    ...(stored?.status?.state ? {state: stored.status.state} : {}),
    ...(stored?.status?.observedGeneration === undefined ? {} : {observedGeneration: stored.status.observedGeneration}),
    ...(stored?.generation === undefined ? {} : {generation: stored.generation}),
    errors: stored?.status?.errors ?? [],
    warnings: stored?.status?.warnings ?? [],
  }
  if (invalid) view.pending = `INVALID: ${invalid.problems.join('; ')}`
  else if (now && (now.state !== view.state || (now.state !== 'ACCEPTED' && now.errors.join() !== view.errors.join()))) {
    view.pending = `${now.state}${now.errors.length ? `: ${now.errors.join('; ')}` : ''}`
  }
  return view
}

function liveKeys(observation: Observation, cluster: string): Set<string> | undefined {
  const live = observation.clusters.find((c) => c.name === cluster)?.live
  return live ? new Set(live.map((o) => o.key)) : undefined
}

function generatedWhere(observation: Observation, keep: (object: IstioObject, cluster: string) => boolean): GeneratedRef[] {
  const out: GeneratedRef[] = []
  for (const [cluster, objects] of Object.entries(observation.objects)) {
    const live = liveKeys(observation, cluster)
    for (const o of objects) {
      if (!keep(o, cluster)) continue
      const key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`
      out.push({cluster, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name,
        sources: (o.metadata.annotations['smh.solo.io/sources'] ?? '').split(',').filter(Boolean), ...(live ? {live: live.has(key)} : {})})
    }
  }
  return out
}

const sourcesInclude = (o: IstioObject, id: string) => (o.metadata.annotations['smh.solo.io/sources'] ?? '').split(',').includes(id)

function hostsOf(o: IstioObject): string[] {
  const spec = o.spec as {host?: string; hosts?: string[]}
  return [...(spec.host ? [spec.host] : []), ...(spec.hosts ?? [])]
}

function clusterDomainOf(observation: Observation, cluster: string): string {
  const kc = observation.resources.find((r) => r.kind === 'KubernetesCluster' && r.metadata.name === cluster) as {spec?: {clusterDomain?: string}} | undefined
  return kc?.spec?.clusterDomain || 'cluster.local'
}

export function serviceHosts(observation: Observation, service: MeshService): {local: string; federated: string} {
  return {local: localFqdn(service.serviceName, service.namespace, clusterDomainOf(observation, service.cluster)), federated: federatedFqdn(service.serviceName, service.namespace, service.cluster)}
}

function describeServiceNamed(observation: Observation, name: string): ServiceDescription {
  const service = findService(observation, name)
  const {local, federated} = serviceHosts(observation, service)
  const ordered = acceptanceOrder(observation.resources)
  const order = new Map(ordered.filter((r) => r.kind === 'TrafficPolicy').map((r, i) => [resourceId(r), i + 1]))
  const policies = observation.statuses.filter((s) => s.kind === 'TrafficPolicy' && s.trafficTargets?.[service.name])
    .map((s) => {
      const id = `${s.kind}/${s.namespace}/${s.name}`
      const target = s.trafficTargets![service.name]
      return {id, order: order.get(id) ?? 0, state: target.state, errors: target.errors ?? []}
    }).sort((a, b) => a.order - b.order)
  const accessPolicies = observation.statuses.filter((s) => s.kind === 'AccessPolicy' && s.trafficTargets?.[service.name])
    .map((s) => ({id: `${s.kind}/${s.namespace}/${s.name}`, state: s.trafficTargets![service.name].state}))
  const failovers = observation.resources.filter((r): r is FailoverService => r.kind === 'FailoverService')
  const failoverServices = failovers.flatMap((fs) => {
    const index = fs.spec.backingServices.findIndex((b) => b.kubeService.name === service.serviceName && b.kubeService.namespace === service.namespace && b.kubeService.clusterName === service.cluster)
    if (index < 0) return []
    const id = resourceId(fs)
    return [{id, hostname: fs.spec.hostname, priority: index + 1, of: fs.spec.backingServices.length, state: statusOf(observation, id)?.state ?? 'unknown'}]
  })
  const endpoints = allServices(observation).filter((s) => s.serviceName === service.serviceName && s.namespace === service.namespace)
    .map((s) => ({cluster: s.cluster, service: serviceRef(s), ready: observation.endpoints[s.name]?.ready ?? 0, total: observation.endpoints[s.name]?.total ?? 0}))
  const failoverIds = new Set(failoverServices.map((f) => f.id))
  const generated = generatedWhere(observation, (o, cluster) => {
    const hosts = hostsOf(o)
    if (cluster === service.cluster && hosts.includes(local)) return true
    if (hosts.includes(federated)) return true
    if (o.kind === 'EnvoyFilter' && [...failoverIds].some((id) => sourcesInclude(o, id))) return true
    return o.kind === 'AuthorizationPolicy' && cluster === service.cluster && accessPolicies.some((a) => sourcesInclude(o, a.id))
  })
  return {kind: 'service', name: service.name, ref: serviceRef(service), cluster: service.cluster, namespace: service.namespace, mesh: service.mesh,
    ports: service.ports, subsets: service.subsets, endpoints, policies, accessPolicies, failoverServices, generated}
}

/** The outlier detection the DestinationRule for host carries in one cluster's generated objects. */
export function outlierFor(observation: Observation, cluster: string, host: string): Record<string, unknown> | undefined {
  const dr = (observation.objects[cluster] ?? []).find((o) => o.kind === 'DestinationRule' && (o.spec as {host?: string}).host === host)
  return (dr?.spec as {trafficPolicy?: {outlierDetection?: Record<string, unknown>}} | undefined)?.trafficPolicy?.outlierDetection
}

export function describeFailoverService(observation: Observation, fs: FailoverService): FailoverServiceDescription {
  const id = resourceId(fs)
  const services = allServices(observation)
  const backing = fs.spec.backingServices.map(({kubeService: ref}, index) => {
    const service = services.find((s) => s.cluster === ref.clusterName && s.namespace === ref.namespace && s.serviceName === ref.name)
    const ep = service ? observation.endpoints[service.name] : undefined
    const outlier = service ? outlierFor(observation, service.cluster, serviceHosts(observation, service).local) : undefined
    return {priority: index + 1, service: `${ref.clusterName}/${ref.namespace}/${ref.name}`, cluster: ref.clusterName, found: Boolean(service),
      ready: ep?.ready ?? 0, total: ep?.total ?? 0, ...(outlier ? {outlierDetection: outlier} : {})}
  })
  const serving = backing.find((b) => b.ready > 0)
  return {kind: 'failoverservice', id, hostname: fs.spec.hostname, port: fs.spec.port, meshes: fs.spec.meshes.map((m) => m.name),
    status: statusView(observation, id), backing, ...(serving ? {servingNow: serving.service} : {}),
    generated: generatedWhere(observation, (o) => sourcesInclude(o, id))}
}

export function describeVirtualMesh(observation: Observation, vm: VirtualMesh): VirtualMeshDescription {
  const id = resourceId(vm)
  const trust = observation.trust.find((t) => t.virtualMesh === id)
  const stored = storedOf(observation, id)?.status?.trust
  const meshes = allMeshes(observation)
  const meshViews = vm.spec.meshes.map((ref) => {
    const mesh = meshes.find((m) => m.name === ref.name)
    const ca = trust?.meshes.find((m) => m.mesh === ref.name)
    const accepts = stored?.meshes?.[ref.name]?.acceptsTrustDomains
    return {mesh: ref.name, cluster: mesh?.cluster ?? ca?.cluster ?? '', ...(mesh ? {trustDomain: mesh.trustDomain, istioVersion: mesh.version} : {}),
      ...(ca ? {intermediate: {present: ca.present, ...(ca.notAfter ? {notAfter: ca.notAfter, daysLeft: ca.daysLeft} : {}), ...(ca.chainsToRoot === undefined ? {} : {chainsToRoot: ca.chainsToRoot}), ...(ca.error ? {error: ca.error} : {})}} : {}),
      ...(accepts ? {acceptsTrustDomains: accepts} : {})}
  })
  const federation = new Map<string, {service: string; hostname: string; visibleIn: string[]}>()
  for (const service of allServices(observation)) {
    if (!vm.spec.meshes.some((m) => m.name === service.mesh)) continue
    const hostname = federatedFqdn(service.serviceName, service.namespace, service.cluster)
    const visibleIn = Object.entries(observation.objects).filter(([, objects]) => objects.some((o) => o.kind === 'ServiceEntry' && hostsOf(o).includes(hostname) && sourcesInclude(o, id))).map(([c]) => c)
    if (visibleIn.length) federation.set(hostname, {service: serviceRef(service), hostname, visibleIn})
  }
  return {kind: 'virtualmesh', id, status: statusView(observation, id),
    root: {...(trust?.rootSecret ?? stored?.rootSecret ? {secret: trust?.rootSecret ?? stored?.rootSecret} : {}),
      ...(trust?.rootFingerprint ?? stored?.rootFingerprint ? {fingerprint: trust?.rootFingerprint ?? stored?.rootFingerprint} : {}),
      ...(trust?.rootNotAfter ?? stored?.rootNotAfter ? {notAfter: trust?.rootNotAfter ?? stored?.rootNotAfter} : {}),
      ...(trust?.rootError ? {error: trust.rootError} : {})},
    meshes: meshViews, federation: [...federation.values()].sort((a, b) => (a.service < b.service ? -1 : 1)),
    estimate: {mode: federationMode(vm.spec), clusters: estimateOf(observation).filter((c) => meshViews.some((m) => m.cluster === c.cluster))},
    generated: generatedWhere(observation, (o) => sourcesInclude(o, id))}
}

export const daysBetween = (from: string, to: string) => Math.floor((Date.parse(to) - Date.parse(from)) / 86_400_000)

export function describeCluster(observation: Observation, name: string): ClusterDescription {
  const facts = observation.clusters.find((c) => c.name === name)
  if (!facts) throw notFound('registered cluster', name, observation.clusters.map((c) => c.name))
  const discovered = observation.discovery.find((d) => d.cluster === name)
  const objects = observation.objects[name] ?? []
  return {kind: 'cluster', name, ...(facts.server ? {server: facts.server} : {}), ...(facts.remoteContext ? {remoteContext: facts.remoteContext} : {}),
    ...(facts.tokenExpires ? {tokenExpires: facts.tokenExpires, tokenDaysLeft: daysBetween(observation.now, facts.tokenExpires)} : {}),
    ...(facts.error ? {error: facts.error} : {}), ...(facts.apiServerVersion ? {apiServerVersion: facts.apiServerVersion} : {}),
    meshes: (discovered?.meshes ?? []).map((m) => ({name: m.name, namespace: m.installationNamespace, istioVersion: m.version, trustDomain: m.trustDomain,
      gateways: m.gateways.map((g) => ({service: `${g.namespace}/${g.serviceName}`, ...(g.externalAddress ? {address: g.externalAddress, port: g.externalTlsPort} : {})}))})),
    services: discovered?.services.length ?? 0,
    generated: {count: objects.length, ...(facts.live ? {live: facts.live.length} : {})}}
}

export function describeTrafficPolicy(observation: Observation, tp: TrafficPolicy): TrafficPolicyDescription {
  const id = resourceId(tp)
  const ordered = acceptanceOrder(observation.resources.filter((r) => r.kind === 'TrafficPolicy'))
  const status = statusOf(observation, id)
  return {kind: 'trafficpolicy', id, order: ordered.findIndex((r) => resourceId(r) === id) + 1, status: statusView(observation, id),
    targets: Object.entries(status?.trafficTargets ?? {}).map(([service, t]) => ({service, state: t.state, errors: t.errors ?? []})),
    generated: generatedWhere(observation, (o) => sourcesInclude(o, id))}
}

export {readyIn}
