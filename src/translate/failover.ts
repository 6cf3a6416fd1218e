/**
 * FailoverService → in each mesh that should see its hostname: a ServiceEntry with a stable virtual IP and no
 * endpoints, and an EnvoyFilter that replaces the hostname's Envoy cluster by an aggregate of the backing
 * services' clusters in priority order (local ones by their cluster-local name, remote ones by their federated
 * name). REMOVE then ADD under the same name: MERGE cannot change a cluster's type (notes/federation-failover.md B2).
 *
 * The annotation `smh.solo.io/failover-strategy: locality` selects the EnvoyFilter-free form instead: the
 * ServiceEntry lists the backing services as endpoints ranked by labels, and a DestinationRule's
 * `localityLbSetting.failoverPriority` plus outlier detection makes Envoy use the next rank when one fails.
 */
import type {FailoverService, ResourceStatus} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {Mesh, MeshService} from '../discovery/types.js'
import {type IstioObject, type OutlierDetectionSettings, destinationRule, envoyFilter, serviceEntry} from './istio.js'
import {type Context, describeMissingService, describeService, keyOf, newStatus, refKey, serviceLocalFqdn} from './model.js'
import {envoyClusterName, federatedFqdn, passthroughSni, subsetName} from './naming.js'
import {type Reachability, unreachableReason} from './traffic-policy.js'
import {meshNotFound} from './virtual-mesh.js'

export const FAILOVER_STRATEGY_ANNOTATION = 'smh.solo.io/failover-strategy'
const AGGREGATE_TYPE = 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig'
const RANK_LABEL = 'smh.solo.io/failover-rank'

export interface CheckedFailover {
  resource: FailoverService
  id: string
  meshes: Mesh[]
  backing: MeshService[]
}

/** Validates every FailoverService; `outlierDetection` says which services have it from an accepted policy. */
export function checkFailoverServices(
  context: Context,
  reach: Reachability,
  outlierDetection: Map<string, OutlierDetectionSettings>,
): {valid: Map<string, CheckedFailover>; statuses: ResourceStatus[]} {
  const valid = new Map<string, CheckedFailover>()
  const statuses: ResourceStatus[] = []
  const hostnames = new Map<string, string>()
  const names = new Map<string, string>()
  for (const fs of context.failoverServices) {
    const status = newStatus(fs)
    status.meshes = {}
    statuses.push(status)
    const id = resourceId(fs)
    const meshes: Mesh[] = []
    fs.spec.meshes.forEach((ref, index) => {
      const mesh = context.meshes.get(ref.name)
      if (mesh) meshes.push(mesh)
      else status.errors.push(`spec.meshes[${index}]: ${meshNotFound(context, ref.name)}`)
    })
    const backing: MeshService[] = []
    fs.spec.backingServices.forEach(({kubeService}, index) => {
      const service = context.services.get(refKey(kubeService))
      if (!service) return void status.errors.push(`spec.backingServices[${index}].kubeService: ${describeMissingService(context, kubeService)}`)
      backing.push(service)
      if (!outlierDetection.has(keyOf(service))) {
        status.errors.push(
          `spec.backingServices[${index}]: ${describeService(kubeService)} has no TrafficPolicy with outlierDetection; failover needs it to eject failing endpoints (add one selecting that service)`,
        )
      }
    })
    for (const mesh of meshes) {
      const taken = names.get(`${mesh.name}/${fs.metadata.name}`)
      if (taken) status.errors.push(`metadata.name: ${taken} already generates objects named ${fs.metadata.name} in mesh ${mesh.name}; rename one`)
    }
    const owner = hostnames.get(fs.spec.hostname)
    if (owner) status.errors.push(`spec.hostname: ${fs.spec.hostname} is already used by ${owner}`)
    // Every mesh involved must be in one VirtualMesh: remote backing services are reached by their federated names.
    const involved = [...new Set([...meshes.map((m) => m.name), ...backing.map((b) => b.mesh)])]
    if (involved.length > 1) {
      const groups = new Set(involved.map((m) => reach.virtualMeshOf.get(m)))
      const ungrouped = involved.filter((mesh) => !reach.virtualMeshOf.get(mesh))
      if (ungrouped.length) {
        status.errors.push(`${ungrouped.length === 1 ? 'mesh' : 'meshes'} ${ungrouped.join(', ')} not grouped in a VirtualMesh; put ${involved.join(' and ')} in one VirtualMesh's spec.meshes`)
      }
      if (groups.size > 1 && !groups.has(undefined)) status.errors.push(`meshes ${involved.join(', ')} belong to different VirtualMeshes (${[...groups].join(', ')}); they must share one`)
    }
    for (const mesh of meshes) {
      for (const service of backing) {
        if (service.cluster !== mesh.cluster && reach.virtualMeshOf.get(service.mesh) && !reach.federatedMeshes.has(service.mesh)) {
          const what = describeService({name: service.serviceName, namespace: service.namespace, clusterName: service.cluster})
          status.errors.push(reach.unfederatedMeshes?.has(service.mesh)
            ? `${what} cannot be reached from ${mesh.cluster}: ${unreachableReason(reach, service.mesh)}`
            : `mesh ${service.mesh} has no gateway with a tls port, so ${what} cannot be reached from ${mesh.cluster}`)
        }
      }
    }
    if (fs.metadata.annotations?.[FAILOVER_STRATEGY_ANNOTATION] === 'locality') {
      const remote = backing.filter((b) => meshes.some((m) => m.cluster !== b.cluster))
      if (new Set(remote.map((b) => `${b.serviceName}.${b.namespace}`)).size > 1) {
        status.errors.push(`metadata.annotations.${FAILOVER_STRATEGY_ANNOTATION}: the locality strategy needs remote backing services with one name and namespace (one SNI); use the default strategy`)
      }
    }
    if (status.errors.length) {
      status.state = 'INVALID'
      for (const mesh of meshes) status.meshes[mesh.name] = {state: 'INVALID'}
      continue
    }
    hostnames.set(fs.spec.hostname, id)
    for (const mesh of meshes) names.set(`${mesh.name}/${fs.metadata.name}`, id)
    for (const mesh of meshes) status.meshes[mesh.name] = {state: 'ACCEPTED'}
    valid.set(id, {resource: fs, id, meshes, backing})
  }
  return {valid, statuses}
}

/** The ports of a backing service that carry the FailoverService port: the same number, else every port. */
function backingPorts(service: MeshService, port: number): number[] {
  const ports = service.ports.filter((p) => p.protocol !== 'UDP').map((p) => p.port)
  return ports.includes(port) ? [port] : ports
}

function hostFrom(context: Context, mesh: Mesh, service: MeshService): string {
  return service.cluster === mesh.cluster ? serviceLocalFqdn(context, service) : federatedFqdn(service.serviceName, service.namespace, service.cluster)
}

function failoverServiceEntry(fs: CheckedFailover, mesh: Mesh, sources: string[], endpoints?: NonNullable<Parameters<typeof serviceEntry>[1]['endpoints']>): IstioObject {
  const protocol = (fs.resource.spec.port.protocol ?? 'http').toLowerCase()
  const hasHostname = endpoints?.some((e) => !/^[0-9.]+$/.test(e.address ?? ''))
  return serviceEntry(
    {cluster: mesh.cluster, name: fs.resource.metadata.name, namespace: mesh.installationNamespace, sources},
    {
      hosts: [fs.resource.spec.hostname],
      addresses: [],
      location: 'MESH_INTERNAL',
      // STATIC with no endpoints still gets an (EDS) Envoy cluster for the EnvoyFilter to replace; DNS would be dropped.
      resolution: hasHostname ? 'DNS' : 'STATIC',
      ports: [{number: fs.resource.spec.port.number, name: protocol, protocol: protocol.toUpperCase()}],
      ...(endpoints ? {endpoints} : {}),
    },
  )
}

export function translateFailover(context: Context, fs: CheckedFailover, subsets: Record<string, string>[], outlierDetection: Map<string, OutlierDetectionSettings>): IstioObject[] {
  const objects: IstioObject[] = []
  const spec = fs.resource.spec
  const port = spec.port.number
  const locality = fs.resource.metadata.annotations?.[FAILOVER_STRATEGY_ANNOTATION] === 'locality'
  for (const mesh of fs.meshes) {
    const placement = {cluster: mesh.cluster, name: fs.resource.metadata.name, namespace: mesh.installationNamespace, sources: [fs.id]}
    if (locality) {
      objects.push(...localityObjects(context, fs, mesh, outlierDetection))
      continue
    }
    objects.push(failoverServiceEntry(fs, mesh, [fs.id]))
    const subsetNames = ['', ...subsets.map((labels) => subsetName(labels))]
    const configPatches = subsetNames.flatMap((subset) => {
      const name = envoyClusterName(port, subset, spec.hostname)
      return [
        {applyTo: 'CLUSTER' as const, match: {context: 'SIDECAR_OUTBOUND' as const, cluster: {name}}, patch: {operation: 'REMOVE' as const}},
        {
          applyTo: 'CLUSTER' as const,
          match: {context: 'SIDECAR_OUTBOUND' as const},
          patch: {
            operation: 'ADD' as const,
            value: {
              name,
              connect_timeout: '1s',
              lb_policy: 'CLUSTER_PROVIDED',
              cluster_type: {
                name: 'envoy.clusters.aggregate',
                typed_config: {
                  '@type': AGGREGATE_TYPE,
                  clusters: fs.backing.flatMap((service) => backingPorts(service, port).map((p) => envoyClusterName(p, subset, hostFrom(context, mesh, service)))),
                },
              },
            },
          },
        },
      ]
    })
    objects.push(envoyFilter(placement, {configPatches}))
    if (subsets.length) {
      // The subset Envoy clusters of the hostname exist only if a DestinationRule names those subsets.
      objects.push(destinationRule(placement, {host: spec.hostname, subsets: subsets.map((labels) => ({name: subsetName(labels), labels: {...labels}}))}))
    }
  }
  return objects
}

/** Backing service i gets rank labels 0..(n-2-i): Istio's failoverPriority then gives it priority i. */
function rankLabels(index: number, count: number): Record<string, string> {
  const labels: Record<string, string> = {}
  for (let rank = 0; rank < count - 1 - index; rank++) labels[`${RANK_LABEL}-${rank}`] = 'true'
  return labels
}

function localityObjects(context: Context, fs: CheckedFailover, mesh: Mesh, outlierDetection: Map<string, OutlierDetectionSettings>): IstioObject[] {
  const spec = fs.resource.spec
  const protocol = (spec.port.protocol ?? 'http').toLowerCase()
  const count = fs.backing.length
  const endpoints = fs.backing.map((service, index) => {
    const labels = {...rankLabels(index, count), 'security.istio.io/tlsMode': 'istio'}
    if (service.cluster === mesh.cluster) return {address: serviceLocalFqdn(context, service), ports: {[protocol]: backingPorts(service, spec.port.number)[0]}, labels}
    const gw = context.meshes.get(service.mesh)!.gateways[0]
    return {address: gw.externalAddress, ports: {[protocol]: gw.externalTlsPort}, labels}
  })
  const remote = fs.backing.find((b) => b.cluster !== mesh.cluster)
  const placement = {cluster: mesh.cluster, name: fs.resource.metadata.name, namespace: mesh.installationNamespace, sources: [fs.id]}
  const outlier = outlierDetection.get(keyOf(fs.backing[0]))!
  return [
    failoverServiceEntry(fs, mesh, [fs.id], endpoints),
    destinationRule(placement, {
      host: spec.hostname,
      trafficPolicy: {
        outlierDetection: outlier,
        loadBalancer: {
          localityLbSetting: {enabled: true, failoverPriority: Array.from({length: Math.max(count - 1, 1)}, (_, rank) => `${RANK_LABEL}-${rank}=true`)},
        },
        ...(remote ? {tls: {mode: 'ISTIO_MUTUAL' as const, sni: passthroughSni(backingPorts(remote, spec.port.number)[0], '', serviceLocalFqdn(context, remote))}} : {}),
      },
    }),
  ]
}
