/**
 * VirtualMesh federation: services of one mesh reachable from the other meshes of the VirtualMesh as
 * `<svc>.<ns>.svc.<cluster>.global`, through the serving cluster's gateway. Which services go where is the mode:
 *  - permissive (Service Mesh Hub 0.9, `federation: {}` or none): every service into every other member;
 *  - onDemand: a service only into the clusters that route to it (a FailoverService's backing service into the
 *    FailoverService's meshes; a traffic-shift or mirror destination into the cluster of the policy's selected
 *    services), scoped with exportTo to the namespaces that route there when the routes say (sourceSelector
 *    namespaces); the passthrough Gateway only on clusters that serve something;
 *  - selectors (Gloo Mesh 1.1): the selected services into the listed meshes, plus what onDemand would add;
 *  - none: nothing.
 *
 * Current Istio has no tcp_cluster_rewrite filter (removed in 1.20), so instead of Service Mesh Hub's rewriting
 * EnvoyFilter the client presents the SNI the serving gateway already answers to, the one for the service's own
 * cluster-local name (`outbound_.9080_._.reviews.default.svc.cluster.local`): see notes/federation-failover.md A-1.
 */
import type {Mesh, MeshService, ServicePort} from '../discovery/types.js'
import {type IstioObject, type TrafficPolicySettings, destinationRule, gateway, serviceEntry} from './istio.js'
import {type Context, clusterDomain, serviceLocalFqdn} from './model.js'
import {federatedFqdn, passthroughSni, sanitize, subsetName} from './naming.js'
import type {AcceptedVirtualMesh} from './virtual-mesh.js'
import type {OutlierDetectionSettings} from './istio.js'

const PROTOCOLS = ['http2', 'http', 'https', 'grpc-web', 'grpc', 'tcp', 'tls', 'mongo', 'mysql', 'redis']

/** Istio's protocol for a Service port: from appProtocol, else the port name prefix (`http-web`), else TCP. */
export function istioProtocol(port: ServicePort): string {
  const candidates = [port.appProtocol, port.name?.split('-')[0]].map((p) => p?.toLowerCase())
  for (const candidate of candidates) if (candidate && PROTOCOLS.includes(candidate)) return candidate === 'grpc-web' ? 'GRPC-WEB' : candidate.toUpperCase()
  return 'TCP'
}

export function portName(port: ServicePort): string {
  return port.name ?? `${istioProtocol(port).toLowerCase()}-${port.port}`
}

/** What other outputs need to know about the services a mesh exposes to its VirtualMesh. */
export interface FederationInputs {
  /** service key → subsets (label maps) some accepted policy routes to */
  subsets: Map<string, Record<string, string>[]>
  /** service key → outlier detection of its own DestinationRule, copied to its federated DestinationRules */
  outlierDetection: Map<string, OutlierDetectionSettings>
  /** service key → the ids of the policies behind those */
  sources: Map<string, Set<string>>
}

/** service key → client cluster → the namespaces whose sidecars route to it, or '*' for all of them. */
export type FederationDemand = Map<string, Map<string, Set<string> | '*'>>

export function addDemand(demand: FederationDemand, serviceKey: string, cluster: string, namespaces: string[] | '*'): void {
  let clusters = demand.get(serviceKey)
  if (!clusters) demand.set(serviceKey, (clusters = new Map()))
  const had = clusters.get(cluster)
  if (had === '*') return
  if (namespaces === '*') return void clusters.set(cluster, '*')
  clusters.set(cluster, new Set([...(had ?? []), ...namespaces]))
}

export function federatedTlsSettings(port: ServicePort[], subset: string, host: string): TrafficPolicySettings {
  const ports = port.filter((p) => p.protocol !== 'UDP')
  if (ports.length === 1) return {tls: {mode: 'ISTIO_MUTUAL', sni: passthroughSni(ports[0].port, subset, host)}}
  return {portLevelSettings: ports.map((p) => ({port: {number: p.port}, tls: {mode: 'ISTIO_MUTUAL', sni: passthroughSni(p.port, subset, host)}}))}
}

/**
 * The ServiceEntry and DestinationRule specs that make one remote service reachable, built once per service and
 * shared by every client mesh (only metadata and the virtual IP differ; nothing mutates the shared parts).
 */
function federatedSpecs(context: Context, server: Mesh, service: MeshService, inputs: FederationInputs) {
  const gw = server.gateways[0]
  const host = federatedFqdn(service.serviceName, service.namespace, service.cluster)
  const key = `${service.serviceName}/${service.namespace}/${service.cluster}`
  const serverHost = serviceLocalFqdn(context, service)
  const ports = service.ports.filter((p) => p.protocol !== 'UDP')
  const endpointPorts: Record<string, number> = {}
  for (const p of ports) endpointPorts[portName(p)] = gw.externalTlsPort
  const entryPorts = ports.map((p) => ({number: p.port, name: portName(p), protocol: istioProtocol(p)}))
  const endpoints = [{address: gw.externalAddress, ports: endpointPorts, labels: {cluster: service.cluster, 'security.istio.io/tlsMode': 'istio'}}]
  const outlier = inputs.outlierDetection.get(key)
  const trafficPolicy: TrafficPolicySettings = {...(outlier ? {outlierDetection: outlier} : {}), ...federatedTlsSettings(ports, '', serverHost)}
  const subsets = (inputs.subsets.get(key) ?? []).map((labels) => ({
    name: subsetName(labels),
    // All endpoints of the federated host are the remote gateway; the subset is chosen there, by SNI.
    labels: {cluster: service.cluster},
    trafficPolicy: federatedTlsSettings(ports, subsetName(labels), serverHost),
  }))
  const policies = inputs.sources.get(key)
  return {
    host,
    resolution: gw.externalAddressIsHostname ? ('DNS' as const) : ('STATIC' as const),
    entryPorts,
    endpoints,
    trafficPolicy,
    subsets,
    policies: policies ? [...policies] : [],
  }
}

function federatedObjects(vm: AcceptedVirtualMesh, client: Mesh, specs: ReturnType<typeof federatedSpecs>, sources: string[], out: IstioObject[], exportTo?: string[]): void {
  const placement = {cluster: client.cluster, name: specs.host, namespace: client.installationNamespace, sources}
  const scope = exportTo ? {exportTo} : {}
  out.push(
    serviceEntry(placement, {
      hosts: [specs.host],
      ...scope,
      addresses: [], // filled with a stable virtual IP when the cluster's objects are complete
      location: 'MESH_INTERNAL',
      resolution: specs.resolution,
      ports: specs.entryPorts,
      endpoints: specs.endpoints,
    }),
    destinationRule(placement, {host: specs.host, trafficPolicy: specs.trafficPolicy, ...(specs.subsets.length ? {subsets: specs.subsets} : {}), ...scope}),
  )
}

/** Server side: an AUTO_PASSTHROUGH server on the gateway's tls port for `*.local` names, unless one exists. */
function passthroughGateway(vm: AcceptedVirtualMesh, server: Mesh, context: Context): IstioObject | undefined {
  const gw = server.gateways[0]
  if (gw.hasPassthroughServer) return undefined
  const domain = clusterDomain(context, server.cluster)
  return gateway(
    {cluster: server.cluster, name: sanitize(`${vm.resource.metadata.name}-${vm.resource.metadata.namespace ?? 'service-mesh-hub'}`), namespace: gw.namespace, sources: [vm.id]},
    {
      selector: {...gw.workloadLabels},
      servers: [{port: {number: gw.tlsContainerPort, name: 'tls-smh', protocol: 'TLS'}, tls: {mode: 'AUTO_PASSTHROUGH'}, hosts: [domain.endsWith('.local') ? '*.local' : `*.${domain}`]}],
    },
  )
}

/**
 * The client meshes a service of `server` goes to under the VirtualMesh's mode, each with its exportTo (undefined:
 * every namespace). Sorted as vm.meshes are, so the output order does not depend on how demand was found.
 */
export function federationTargets(vm: AcceptedVirtualMesh, server: Mesh, service: MeshService, demand: FederationDemand): {client: Mesh; exportTo?: string[]}[] {
  const clients = vm.meshes.filter((client) => client !== server && client.cluster !== server.cluster)
  if (vm.federation === 'permissive') return clients.map((client) => ({client}))
  if (vm.federation === 'none') return []
  const key = `${service.serviceName}/${service.namespace}/${service.cluster}`
  const wanted = demand.get(key)
  const everywhere = new Set<Mesh>()
  for (const selector of vm.selected ?? []) if (selector.serviceKeys.has(key)) for (const mesh of selector.meshes) everywhere.add(mesh)
  const targets: {client: Mesh; exportTo?: string[]}[] = []
  for (const client of clients) {
    if (everywhere.has(client)) {
      targets.push({client})
      continue
    }
    const namespaces = wanted?.get(client.cluster)
    if (!namespaces) continue
    targets.push(namespaces === '*' ? {client} : {client, exportTo: [...namespaces].sort()})
  }
  return targets
}

export function translateFederation(context: Context, virtualMeshes: AcceptedVirtualMesh[], inputs: FederationInputs, demand: FederationDemand = new Map()): IstioObject[] {
  const objects: IstioObject[] = []
  const servicesByMesh = new Map<string, MeshService[]>()
  for (const service of context.allServices) {
    const list = servicesByMesh.get(service.mesh)
    if (list) list.push(service)
    else servicesByMesh.set(service.mesh, [service])
  }
  for (const vm of virtualMeshes) {
    if (vm.meshes.length < 2 || vm.federation === 'none') continue
    const permissive = vm.federation === 'permissive'
    for (const server of vm.meshes) {
      const services = servicesByMesh.get(server.name) ?? []
      if (server.gateways.length === 0 || services.length === 0) continue
      const gw = passthroughGateway(vm, server, context)
      // Permissive serves every service, so the Gateway always; the other modes only when something is federated.
      if (gw && permissive) objects.push(gw)
      let served = false
      for (const service of services) {
        const targets = federationTargets(vm, server, service, demand)
        if (targets.length === 0) continue
        served = true
        const specs = federatedSpecs(context, server, service, inputs)
        // The sources annotation, worked out once per service (sorted, unique) rather than per object.
        const sources = specs.policies.length ? [[...new Set([vm.id, ...specs.policies])].sort().join(',')] : [vm.id]
        for (const {client, exportTo} of targets) federatedObjects(vm, client, specs, sources, objects, exportTo)
      }
      if (gw && !permissive && served) objects.push(gw)
    }
  }
  return objects
}
