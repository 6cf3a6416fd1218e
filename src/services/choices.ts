/**
 * What a wizard can offer: the registered clusters, and what live discovery finds in them (meshes, services with
 * their ports and subsets, service accounts), plus the SMH resources already stored (FailoverServices to shift to,
 * VirtualMeshes whose meshes are taken). Pure: the verbs read the world once (readWorld in verbs/author.ts) and the
 * wizard's choices, its plan and the write all use that read.
 */
import type {SmhResource} from '../api/types.js'
import {SMH_NAMESPACE} from '../api/types.js'
import type {ClusterDiscovery, ServicePort} from '../discovery/types.js'
import {istioProtocol} from '../translate/federation.js'

export interface ClusterChoice {
  name: string
  /** Discovery could read it. */
  reachable: boolean
  /** Why not, when it could not. */
  error?: string
}

export interface MeshChoice {
  /** `istiod-istio-system-kind2`, what `--mesh` takes. */
  name: string
  cluster: string
  trustDomain: string
  /** The Istio namespace. */
  namespace: string
  /** `namespace/name` of the VirtualMesh that already holds it, if one does. */
  virtualMesh?: string
}

export interface PortChoice {
  port: number
  /** Istio's protocol for the port, lower case (`http`, `grpc`, `tcp`...): what `--port P/PROTO` takes. */
  protocol: string
  name?: string
}

export interface ServiceChoice {
  /** `kind2/default/reviews`, what `--backing`, `--to` and SERVICE take. */
  ref: string
  /** The discovered name, `reviews-default-kind2`. */
  name: string
  cluster: string
  namespace: string
  serviceName: string
  mesh: string
  ports: PortChoice[]
  /** Pod label keys whose values differ across the workloads behind the service, with those values: `{version: [v1, v2]}`. */
  subsets: Record<string, string[]>
}

export interface ServiceAccountChoice {
  /** `kind2/default/bookinfo-reviews`, what `--from` takes. */
  ref: string
  cluster: string
  namespace: string
  name: string
  mesh: string
}

export interface FailoverServiceChoice {
  name: string
  namespace: string
  hostname: string
  /** `9080/http` */
  port: string
  /** Backing services in priority order, as `CLUSTER/NS/SVC`. */
  backing: string[]
}

export interface VirtualMeshChoice {
  name: string
  namespace: string
  /** Mesh names. */
  meshes: string[]
}

export interface Choices {
  clusters: ClusterChoice[]
  meshes: MeshChoice[]
  services: ServiceChoice[]
  serviceAccounts: ServiceAccountChoice[]
  failoverServices: FailoverServiceChoice[]
  virtualMeshes: VirtualMeshChoice[]
}

const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => {
  const x = key(a)
  const y = key(b)
  return x < y ? -1 : x > y ? 1 : 0
}

const portChoice = (p: ServicePort): PortChoice => ({port: p.port, protocol: istioProtocol(p).toLowerCase(), ...(p.name ? {name: p.name} : {})})

/**
 * The choices from what discovery found and the stored SMH resources. `unreachable` names the registered clusters
 * discovery could not read (with why), so a wizard can say why their services are missing.
 */
export function choicesFrom(discovery: ClusterDiscovery[], resources: SmhResource[], unreachable: ReadonlyMap<string, string> = new Map()): Choices {
  const virtualMeshes: VirtualMeshChoice[] = resources
    .filter((r) => r.kind === 'VirtualMesh')
    .map((vm) => ({name: vm.metadata.name, namespace: vm.metadata.namespace ?? SMH_NAMESPACE, meshes: (vm.spec.meshes ?? []).map((m) => m.name)}))
    .sort(byKey((vm) => `${vm.namespace}/${vm.name}`))
  const holder = new Map<string, string>()
  for (const vm of virtualMeshes) for (const mesh of vm.meshes) if (!holder.has(mesh)) holder.set(mesh, `${vm.namespace}/${vm.name}`)

  const clusters: ClusterChoice[] = [
    ...discovery.map((d) => ({name: d.cluster, reachable: true})),
    ...[...unreachable].filter(([name]) => !discovery.some((d) => d.cluster === name)).map(([name, error]) => ({name, reachable: false, error})),
  ].sort(byKey((c) => c.name))

  const meshes: MeshChoice[] = discovery.flatMap((d) => d.meshes.map((m) => ({
    name: m.name,
    cluster: m.cluster,
    trustDomain: m.trustDomain,
    namespace: m.installationNamespace,
    ...(holder.has(m.name) ? {virtualMesh: holder.get(m.name)} : {}),
  }))).sort(byKey((m) => m.name))

  const services: ServiceChoice[] = discovery.flatMap((d) => d.services.map((s) => ({
    ref: `${s.cluster}/${s.namespace}/${s.serviceName}`,
    name: s.name,
    cluster: s.cluster,
    namespace: s.namespace,
    serviceName: s.serviceName,
    mesh: s.mesh,
    ports: s.ports.filter((p) => p.protocol !== 'UDP').map(portChoice),
    subsets: Object.fromEntries(Object.entries(s.subsets).sort(byKey(([k]) => k)).map(([k, values]) => [k, [...values]])),
  }))).sort(byKey((s) => s.ref))

  const accounts = new Map<string, ServiceAccountChoice>()
  for (const d of discovery) {
    for (const w of d.workloads) {
      const ref = `${w.cluster}/${w.namespace}/${w.serviceAccountName || 'default'}`
      if (!accounts.has(ref)) accounts.set(ref, {ref, cluster: w.cluster, namespace: w.namespace, name: w.serviceAccountName || 'default', mesh: w.mesh})
    }
  }

  const failoverServices: FailoverServiceChoice[] = resources
    .filter((r) => r.kind === 'FailoverService')
    .map((fs) => ({
      name: fs.metadata.name,
      namespace: fs.metadata.namespace ?? SMH_NAMESPACE,
      hostname: fs.spec.hostname,
      port: `${fs.spec.port.number}/${(fs.spec.port.protocol ?? 'http').toLowerCase()}`,
      backing: (fs.spec.backingServices ?? []).map((b) => `${b.kubeService.clusterName}/${b.kubeService.namespace}/${b.kubeService.name}`),
    }))
    .sort(byKey((fs) => `${fs.namespace}/${fs.name}`))

  return {clusters, meshes, services, serviceAccounts: [...accounts.values()].sort(byKey((a) => a.ref)), failoverServices, virtualMeshes}
}
