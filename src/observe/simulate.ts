/**
 * `kubectl smh simulate SERVICE` (issue 10): where requests for a service would go, computed from discovery and the
 * translated config, no traffic sent. For each client cluster that can call it (its own cluster by the local name,
 * the others by the federated name), each route of the VirtualService with its weighted destinations; a destination
 * that is a FailoverService opens into priority tiers (its backing services in order). `--fail` takes clusters or
 * services out (their endpoints count as failed): the first tier left with ready endpoints serves. Warnings name
 * what would defeat failover. Pure.
 */
import type {FailoverService} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {MeshService} from '../discovery/types.js'
import {UsageError} from '../errors.js'
import {closeNames} from '../nearest.js'
import type {IstioObject} from '../translate/index.js'
import {federatedFqdn} from '../translate/naming.js'
import {findService, serviceHosts} from './describe.js'
import {type Observation, allMeshes, allServices, readyIn, serviceRef} from './observation.js'

export interface Tier {
  priority: number
  /** `kind3/default/reviews` */
  service: string
  cluster: string
  subset?: Record<string, string>
  /** How the client reaches it: `local`, or `gateway ADDRESS:PORT` of the serving cluster. */
  via: string
  ready: number
  /** Taken out by --fail. */
  failed: boolean
}

export interface Destination {
  host: string
  weight: number
  /** service: one service; failover: a FailoverService's tiers; unknown: a host the config does not resolve. */
  type: 'service' | 'failover' | 'unknown'
  failoverService?: string
  tiers: Tier[]
  /** The tier that serves (undefined: requests fail, 503). */
  servedBy?: string
}

export interface RouteView {
  /** `default`, or the match (`prefix /api`, `header end-user=jason`). */
  match: string
  destinations: Destination[]
}

export interface ClientView {
  /** The client cluster. */
  cluster: string
  /** The hostname its workloads call. */
  host: string
  /** Which VirtualService decides (or none: straight to the host). */
  virtualService?: string
  routes: RouteView[]
}

export interface Simulation {
  service: string
  fail: string[]
  /** All healthy (but --fail ignored). */
  healthy: ClientView[]
  /** With the --fail parts removed (only when --fail is given). */
  failed?: ClientView[]
  warnings: string[]
}

export interface SimulateOptions {
  from?: string
  fail?: string[]
}

export function simulate(observation: Observation, serviceName: string, options: SimulateOptions = {}): Simulation {
  const service = findService(observation, serviceName, 'SERVICE')
  const fail = options.fail ?? []
  checkFail(observation, fail)
  const {local, federated} = serviceHosts(observation, service)
  const clients: {cluster: string; host: string}[] = [{cluster: service.cluster, host: local}]
  for (const cluster of Object.keys(observation.objects).sort()) {
    if (cluster === service.cluster) continue
    if (observation.objects[cluster].some((o) => o.kind === 'ServiceEntry' && hostsOf(o).includes(federated))) clients.push({cluster, host: federated})
  }
  let selected = clients
  if (options.from) {
    selected = clients.filter((c) => c.cluster === options.from)
    if (!selected.length) {
      const near = closeNames(options.from, clients.map((c) => c.cluster))
      throw new UsageError(`--from ${options.from}: no client of ${serviceRef(service)} there (clients: ${clients.map((c) => c.cluster).join(', ')})${near.length ? `; did you mean ${near[0]}?` : ''}`)
    }
  }
  const warnings = new Set<string>()
  const healthy = selected.map((c) => clientView(observation, service, c.cluster, c.host, [], warnings))
  for (const fs of failoversBackedBy(observation, service)) {
    const status = observation.statuses.find((x) => x.kind === 'FailoverService' && `${x.kind}/${x.namespace}/${x.name}` === resourceId(fs))
    if (status && status.state !== 'ACCEPTED') warnings.add(`${resourceId(fs)}, which ${serviceRef(service)} backs, is ${status.state} (${status.errors.join('; ')}): it fails over nowhere`)
  }
  const failed = fail.length ? selected.map((c) => clientView(observation, service, c.cluster, c.host, fail, new Set())) : undefined
  return {service: serviceRef(service), fail, healthy, ...(failed ? {failed} : {}), warnings: [...warnings]}
}

function failoversBackedBy(observation: Observation, service: MeshService): FailoverService[] {
  return observation.resources.filter((r): r is FailoverService => r.kind === 'FailoverService' &&
    r.spec.backingServices.some((b) => b.kubeService.clusterName === service.cluster && b.kubeService.namespace === service.namespace && b.kubeService.name === service.serviceName))
}

function checkFail(observation: Observation, fail: string[]): void {
  const clusters = observation.discovery.map((d) => d.cluster)
  const services = allServices(observation).map(serviceRef)
  for (const value of fail) {
    if (value.includes('/')) {
      if (!services.includes(value)) {
        const near = closeNames(value, services)
        throw new UsageError(`--fail ${value}: no such service (CLUSTER/NAMESPACE/SERVICE)${near.length ? `; did you mean ${near[0]}?` : ''}`)
      }
    } else if (!clusters.includes(value)) {
      const near = closeNames(value, clusters)
      throw new UsageError(`--fail ${value}: no such cluster (clusters: ${clusters.join(', ')})${near.length ? `; did you mean ${near[0]}?` : ''}`)
    }
  }
}

function hostsOf(o: IstioObject): string[] {
  const spec = o.spec as {host?: string; hosts?: string[]}
  return [...(spec.host ? [spec.host] : []), ...(spec.hosts ?? [])]
}

interface HttpRoute {
  match?: {uri?: Record<string, string>; headers?: Record<string, Record<string, string>>; method?: Record<string, string>}[]
  route?: {destination: {host: string; subset?: string; port?: {number?: number}}; weight?: number}[]
}

function matchText(route: HttpRoute): string {
  if (!route.match?.length) return 'default'
  return route.match.map((m) => [
    ...Object.entries(m.uri ?? {}).map(([k, v]) => `${k} ${v}`),
    ...Object.entries(m.headers ?? {}).map(([h, v]) => `header ${h} ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(' ')}`),
    ...Object.entries(m.method ?? {}).map(([, v]) => `method ${v}`),
  ].join(', ') || 'any').join(' or ')
}

function clientView(o: Observation, service: MeshService, cluster: string, host: string, fail: string[], warnings: Set<string>): ClientView {
  const objects = o.objects[cluster] ?? []
  const vs = objects.find((x) => x.kind === 'VirtualService' && hostsOf(x).includes(host))
  const http: HttpRoute[] = vs ? ((vs.spec as {http?: HttpRoute[]}).http ?? []) : [{route: [{destination: {host}}]}]
  // Without a VirtualService a remote client's request lands on the serving cluster's gateway, which passes it
  // through to the service by SNI.
  const passthrough = !vs && host === serviceHosts(o, service).federated ? service : undefined
  const views = http.map((route) => ({
    match: matchText(route),
    destinations: (route.route ?? []).map((r) => destination(o, cluster, r.destination.host, r.destination.subset, r.weight ?? 100, fail, warnings, passthrough)),
  }))
  return {cluster, host, ...(vs ? {virtualService: `${vs.metadata.namespace}/${vs.metadata.name}`} : {}), routes: views}
}

function subsetLabels(o: Observation, cluster: string, host: string, subset: string | undefined): Record<string, string> | undefined {
  if (!subset) return undefined
  const dr = (o.objects[cluster] ?? []).find((x) => x.kind === 'DestinationRule' && (x.spec as {host?: string}).host === host)
  return (dr?.spec as {subsets?: {name: string; labels: Record<string, string>}[]} | undefined)?.subsets?.find((s) => s.name === subset)?.labels
}

function isFailed(fail: string[], service: MeshService): boolean {
  return fail.includes(service.cluster) || fail.includes(serviceRef(service))
}

function gatewayOf(o: Observation, service: MeshService): {address?: string; port?: number} {
  const gw = allMeshes(o).find((m) => m.name === service.mesh)?.gateways[0]
  return gw?.externalAddress ? {address: gw.externalAddress, port: gw.externalTlsPort} : {}
}

function tierFor(o: Observation, client: string, service: MeshService, subset: Record<string, string> | undefined, priority: number, fail: string[], warnings: Set<string>): Tier {
  const remote = service.cluster !== client
  const gw = remote ? gatewayOf(o, service) : {}
  if (remote && !gw.address) warnings.add(`${serviceRef(service)} is reached from ${client} through ${service.cluster}'s gateway, which has no address: requests to it fail`)
  const ready = readyIn(o.endpoints[service.name], subset)
  if (subset && ready === 0 && !isFailed(fail, service)) warnings.add(`subset ${Object.entries(subset).map(([k, v]) => `${k}=${v}`).join(',')} of ${serviceRef(service)} has no ready endpoints`)
  return {priority, service: serviceRef(service), cluster: service.cluster, ...(subset ? {subset} : {}),
    via: remote ? `gateway ${gw.address ?? '(no address)'}${gw.port ? `:${gw.port}` : ''}` : 'local', ready: isFailed(fail, service) ? 0 : ready, failed: isFailed(fail, service)}
}

function serviceByHost(o: Observation, client: string, host: string): MeshService | undefined {
  return allServices(o).find((s) => {
    const hosts = serviceHosts(o, s)
    return (s.cluster === client && hosts.local === host) || hosts.federated === host
  })
}

function destination(o: Observation, client: string, host: string, subsetName: string | undefined, weight: number, fail: string[], warnings: Set<string>, passthrough?: MeshService): Destination {
  const finish = (d: Destination): Destination => {
    const serving = d.tiers.find((t) => t.ready > 0 && !(t.via.startsWith('gateway (no address)')))
    return serving ? {...d, servedBy: serving.service} : d
  }
  const target = passthrough ?? serviceByHost(o, client, host)
  if (target) {
    const subset = subsetLabels(o, client, host, subsetName)
    return finish({host, weight, type: 'service', tiers: [tierFor(o, client, target, subset, 1, fail, warnings)]})
  }
  const fs = o.resources.find((r): r is FailoverService => r.kind === 'FailoverService' && r.spec.hostname === host)
  const hasObjects = fs && (o.objects[client] ?? []).some((x) => x.kind === 'ServiceEntry' && hostsOf(x).includes(host))
  if (fs && hasObjects) {
    const subset = subsetLabels(o, client, host, subsetName)
    const tiers: Tier[] = []
    fs.spec.backingServices.forEach(({kubeService: ref}, index) => {
      const backing = allServices(o).find((s) => s.cluster === ref.clusterName && s.namespace === ref.namespace && s.serviceName === ref.name)
      if (!backing) return
      tiers.push(tierFor(o, client, backing, subset, index + 1, fail, warnings))
      const backingHost = backing.cluster === client ? serviceHosts(o, backing).local : federatedFqdn(backing.serviceName, backing.namespace, backing.cluster)
      const dr = (o.objects[client] ?? []).find((x) => x.kind === 'DestinationRule' && (x.spec as {host?: string}).host === backingHost)
      const outlier = (dr?.spec as {trafficPolicy?: {outlierDetection?: {maxEjectionPercent?: number}}} | undefined)?.trafficPolicy?.outlierDetection
      if (!outlier) warnings.add(`${resourceId(fs)}: ${serviceRef(backing)} has no outlier detection in ${client}: its failing endpoints are never ejected, so requests never fail over`)
      else if (outlier.maxEjectionPercent !== 100) warnings.add(`${resourceId(fs)}: ${serviceRef(backing)} in ${client} has maxEjectionPercent ${outlier.maxEjectionPercent ?? 'unset (10)'}, below 100: not every failing endpoint is ejected`)
    })
    return finish({host, weight, type: 'failover', failoverService: resourceId(fs), tiers})
  }
  warnings.add(`${client}: ${host} resolves to no discovered service or FailoverService`)
  return {host, weight, type: 'unknown', tiers: []}
}
