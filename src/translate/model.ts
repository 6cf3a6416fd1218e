/** The translator's view of its input: discovered clusters indexed for lookups, and resources in acceptance order. */
import type {AccessPolicy, ClusterObjectRef, FailoverService, KubernetesCluster, ResourceStatus, SmhResource, TrafficPolicy, VirtualMesh} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {ClusterDiscovery, Mesh, MeshService} from '../discovery/types.js'
import {localFqdn} from './naming.js'

export interface Context {
  clusters: ClusterDiscovery[]
  clusterNames: string[]
  services: Map<string, MeshService>
  allServices: MeshService[]
  /** Position of each service in allServices (clusters sorted, then discovery order): for stable sorting. */
  serviceOrder: Map<MeshService, number>
  meshes: Map<string, Mesh>
  meshesByCluster: Map<string, Mesh[]>
  clusterDomains: Map<string, string>
  trafficPolicies: TrafficPolicy[]
  failoverServices: FailoverService[]
  virtualMeshes: VirtualMesh[]
  accessPolicies: AccessPolicy[]
}

export const serviceKey = (name: string, namespace: string, cluster: string) => `${name}/${namespace}/${cluster}`
export const refKey = (ref: ClusterObjectRef) => serviceKey(ref.name, ref.namespace, ref.clusterName)
export const keyOf = (service: MeshService) => serviceKey(service.serviceName, service.namespace, service.cluster)

/** `reviews.default in cluster kind2`: how every message names a service. */
export function describeService(ref: {name: string; namespace: string; clusterName: string}): string {
  return `service ${ref.name}.${ref.namespace} in cluster ${ref.clusterName}`
}

export function describeMissingService(context: Context, ref: ClusterObjectRef): string {
  if (!context.clusterNames.includes(ref.clusterName)) {
    return `${describeService(ref)} not found: no cluster ${ref.clusterName} (clusters: ${context.clusterNames.join(', ') || 'none'})`
  }
  const sameName = context.allServices.filter((s) => s.serviceName === ref.name && s.cluster === ref.clusterName).map((s) => s.namespace)
  const hint = sameName.length ? ` (${ref.name} exists in namespace ${sameName.join(', ')})` : ''
  return `${describeService(ref)} not found among the services of the mesh${hint}`
}

/**
 * Acceptance order: Service Mesh Hub kept the first-accepted policy on a conflict. Offline, the oldest
 * creationTimestamp stands for "accepted first"; objects without one (new files) come after, by namespace/name.
 */
export function acceptanceOrder<R extends SmhResource>(resources: R[]): R[] {
  return [...resources].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '~'
    const tb = b.metadata.creationTimestamp ?? '~'
    if (ta !== tb) return ta < tb ? -1 : 1
    return resourceId(a) < resourceId(b) ? -1 : resourceId(a) > resourceId(b) ? 1 : 0
  })
}

export function buildContext(resources: SmhResource[], clusters: ClusterDiscovery[]): Context {
  const sortedClusters = [...clusters].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0))
  const services = new Map<string, MeshService>()
  const meshes = new Map<string, Mesh>()
  const meshesByCluster = new Map<string, Mesh[]>()
  for (const cluster of sortedClusters) {
    for (const service of cluster.services) services.set(keyOf(service), service)
    for (const mesh of cluster.meshes) meshes.set(mesh.name, mesh)
    meshesByCluster.set(cluster.cluster, cluster.meshes)
  }
  const clusterDomains = new Map<string, string>()
  for (const resource of resources) {
    if (resource.kind === 'KubernetesCluster') {
      const cluster = resource as KubernetesCluster
      if (cluster.spec.clusterDomain) clusterDomains.set(cluster.metadata.name, cluster.spec.clusterDomain)
    }
  }
  const ofKind = <R extends SmhResource>(kind: R['kind']) => acceptanceOrder(resources.filter((r): r is R => r.kind === kind))
  return {
    clusters: sortedClusters,
    clusterNames: sortedClusters.map((c) => c.cluster),
    services,
    allServices: [...services.values()],
    serviceOrder: new Map([...services.values()].map((s, i) => [s, i])),
    meshes,
    meshesByCluster,
    clusterDomains,
    trafficPolicies: ofKind<TrafficPolicy>('TrafficPolicy'),
    failoverServices: ofKind<FailoverService>('FailoverService'),
    virtualMeshes: ofKind<VirtualMesh>('VirtualMesh'),
    accessPolicies: ofKind<AccessPolicy>('AccessPolicy'),
  }
}

export function clusterDomain(context: Context, cluster: string): string {
  return context.clusterDomains.get(cluster) ?? 'cluster.local'
}

export function serviceLocalFqdn(context: Context, service: MeshService): string {
  return localFqdn(service.serviceName, service.namespace, clusterDomain(context, service.cluster))
}

export function newStatus(resource: SmhResource): ResourceStatus {
  return {
    apiVersion: resource.apiVersion,
    kind: resource.kind,
    namespace: resource.metadata.namespace ?? 'service-mesh-hub',
    name: resource.metadata.name,
    ...(resource.metadata.generation === undefined ? {} : {observedGeneration: resource.metadata.generation}),
    state: 'ACCEPTED',
    errors: [],
  }
}
