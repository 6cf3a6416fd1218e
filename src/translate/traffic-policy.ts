/**
 * TrafficPolicy → what it asks of each selected service: VirtualService route fields (timeouts, retries, fault,
 * CORS, headers, mirror, shift), DestinationRule fields (outlier detection, TLS) and subsets wanted on the services
 * it shifts to. References are checked here; conflicts between policies are settled in conflicts.ts.
 */
import type {FailoverService, KubeServiceDestination, TrafficPolicy, TrafficPolicySpec} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {MeshService} from '../discovery/types.js'
import type {HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, OutlierDetectionSettings} from './istio.js'
import {type Context, describeMissingService, describeService, keyOf, serviceKey, serviceLocalFqdn} from './model.js'
import {federatedFqdn, protoDuration, subsetName} from './naming.js'
import {policyMatches} from './routes.js'

export const ROUTE_FIELDS = ['route', 'timeout', 'retries', 'fault', 'corsPolicy', 'headers', 'mirror'] as const
export type RouteField = (typeof ROUTE_FIELDS)[number]

/** What one policy sets on one route of one service's VirtualService. */
export interface RouteContribution {
  /** Identifies the route: its match (with port), so equal matches of different policies share one route. */
  key: string
  match?: HTTPMatchRequest
  /** Port of a multi-port service this route copy is for: the default destination gets it too. */
  port?: number
  fields: Partial<Record<RouteField, unknown>>
}

export interface DestinationRuleContribution {
  outlierDetection?: OutlierDetectionSettings
  tls?: {mode: 'DISABLE' | 'SIMPLE' | 'ISTIO_MUTUAL'}
}

/** A subset some policy routes to: it must exist in the DestinationRule of that service. */
export interface SubsetDemand {
  serviceKey: string
  labels: Record<string, string>
}

export interface TargetPlan {
  target: MeshService
  routes: RouteContribution[]
  destinationRule: DestinationRuleContribution
  errors: string[]
  /** Services in other clusters this target's routes send to (traffic shift, mirror): what on-demand federation federates. */
  remote: MeshService[]
}

export interface TrafficPolicyPlan {
  policy: TrafficPolicy
  id: string
  targets: TargetPlan[]
  /** Errors not tied to one target (selector references). */
  errors: string[]
  subsetDemands: SubsetDemand[]
  failoverRefs: string[]
}

/** Which meshes can reach which: the meshes of one accepted VirtualMesh (with federation) see each other's services. */
export interface Reachability {
  /** mesh name → VirtualMesh id */
  virtualMeshOf: Map<string, string>
  /** mesh names whose services other meshes of their VirtualMesh can reach (federation on, gateway present) */
  federatedMeshes: Set<string>
  /** mesh names whose VirtualMesh says `federation: {none: {}}` */
  unfederatedMeshes?: Set<string>
}

/** Why a mesh's services cannot be reached from the other meshes of its VirtualMesh. */
export function unreachableReason(reach: Reachability, mesh: string): string {
  return reach.unfederatedMeshes?.has(mesh)
    ? `the VirtualMesh of ${mesh} has federation none (set spec.federation to onDemand: {} or permissive: {})`
    : `${mesh} needs a gateway with a tls port`
}

export function failoverRefId(policyNamespace: string, ref: {name: string; namespace?: string}): string {
  return `FailoverService/${ref.namespace ?? policyNamespace}/${ref.name}`
}

export function outlierDetectionSettings(spec: NonNullable<TrafficPolicySpec['outlierDetection']>): OutlierDetectionSettings {
  return {
    consecutive5xxErrors: spec.consecutiveErrors ?? 5,
    interval: protoDuration(spec.interval ?? '10s'),
    baseEjectionTime: protoDuration(spec.baseEjectionTime ?? '30s'),
    // Istio's own default of 10% leaves most failing endpoints in place and defeats failover.
    maxEjectionPercent: spec.maxEjectionPercent ?? 100,
  }
}

/** Host (and port rules) for a destination service as seen from a client cluster: local name or federated name. */
function destinationHost(
  context: Context,
  reach: Reachability,
  from: MeshService,
  ref: KubeServiceDestination | {name: string; namespace: string; clusterName: string; port?: number; subset?: Record<string, string>},
  field: string,
): {host?: string; port?: number; service?: MeshService; error?: string} {
  const service = context.services.get(serviceKey(ref.name, ref.namespace, ref.clusterName))
  if (!service) return {error: `${field}: ${describeMissingService(context, ref)}`}
  let host: string
  if (service.cluster === from.cluster) host = serviceLocalFqdn(context, service)
  else {
    const vmFrom = reach.virtualMeshOf.get(from.mesh)
    if (!vmFrom || vmFrom !== reach.virtualMeshOf.get(service.mesh) || !reach.federatedMeshes.has(service.mesh)) {
      return {
        error: `${field}: ${describeService(ref)} is not reachable from cluster ${from.cluster}: meshes ${from.mesh} and ${service.mesh} must be in one VirtualMesh and ${reach.unfederatedMeshes?.has(service.mesh) ? unreachableReason(reach, service.mesh) : `${service.mesh} needs a gateway with a tls port`}`,
      }
    }
    host = federatedFqdn(service.serviceName, service.namespace, service.cluster)
  }
  if (ref.port !== undefined) {
    if (!service.ports.some((p) => p.port === ref.port)) {
      return {error: `${field}.port: ${describeService(ref)} has no port ${ref.port} (ports: ${service.ports.map((p) => p.port).join(', ')})`}
    }
    return {host, port: ref.port, service}
  }
  if (service.ports.length > 1) {
    return {error: `${field}: must provide port: ${describeService(ref)} has ports ${service.ports.map((p) => p.port).join(', ')}`}
  }
  return {host, service}
}

function checkSubset(service: MeshService, labels: Record<string, string>, field: string): string | undefined {
  for (const [key, value] of Object.entries(labels)) {
    const values = service.subsets[key]
    if (!values) {
      const known = Object.keys(service.subsets)
      return `${field}.subset: ${describeService({name: service.serviceName, namespace: service.namespace, clusterName: service.cluster})} has no subset label ${key} (${known.length ? `subset labels: ${known.join(', ')}` : 'its workloads do not differ by any label'})`
    }
    if (!values.includes(value)) {
      return `${field}.subset: ${describeService({name: service.serviceName, namespace: service.namespace, clusterName: service.cluster})} has no workload with ${key}=${value} (values: ${values.join(', ')})`
    }
  }
  return undefined
}

const hasRouteFeatures = (spec: TrafficPolicySpec) =>
  Boolean(spec.trafficShift?.destinations?.length || spec.requestTimeout || spec.retries || spec.faultInjection || spec.corsPolicy || spec.mirror || spec.headerManipulation)

export function planTrafficPolicy(
  context: Context,
  reach: Reachability,
  failoverServices: Map<string, FailoverService>,
  policy: TrafficPolicy,
  targets: MeshService[],
  selectorErrors: string[],
): TrafficPolicyPlan {
  const spec = policy.spec
  const namespace = policy.metadata.namespace ?? 'service-mesh-hub'
  const plan: TrafficPolicyPlan = {policy, id: resourceId(policy), targets: [], errors: [...selectorErrors], subsetDemands: [], failoverRefs: []}
  const destinations = spec.trafficShift?.destinations ?? []
  if (destinations.length > 1 && destinations.every((d) => !d.weight)) {
    plan.errors.push('spec.trafficShift.destinations: set a weight on each destination when there are several (weights are relative, e.g. 90 and 10)')
  }
  for (const [index, destination] of destinations.entries()) {
    const ref = destination.failoverServiceRef ?? destination.failoverService
    if (!ref) continue
    const id = failoverRefId(namespace, ref)
    plan.failoverRefs.push(id)
    if (!failoverServices.has(id)) plan.errors.push(`spec.trafficShift.destinations[${index}]: ${id} not found`)
  }

  for (const target of targets) {
    const errors: string[] = []
    const targetPlan: TargetPlan = {target, routes: [], destinationRule: {}, errors, remote: []}
    const remote: MeshService[] = []
    plan.targets.push(targetPlan)
    if (spec.outlierDetection) targetPlan.destinationRule.outlierDetection = outlierDetectionSettings(spec.outlierDetection)
    if (spec.mtls?.istio?.tlsMode) targetPlan.destinationRule.tls = {mode: spec.mtls.istio.tlsMode}
    if (!hasRouteFeatures(spec)) continue
    const matches = policyMatches(policy, target.cluster)
    if (!matches) continue

    const fields: Partial<Record<RouteField, unknown>> = {}
    if (destinations.length) {
      const route: HTTPRouteDestination[] = []
      for (const [index, destination] of destinations.entries()) {
        const field = `spec.trafficShift.destinations[${index}]`
        const weight = destinations.length > 1 ? {weight: destination.weight ?? 0} : {}
        const fsRef = destination.failoverServiceRef ?? destination.failoverService
        if (destination.kubeService) {
          const resolved = destinationHost(context, reach, target, destination.kubeService, `${field}.kubeService`)
          if (resolved.error) {
            errors.push(resolved.error)
            continue
          }
          if (resolved.service!.cluster !== target.cluster) remote.push(resolved.service!)
          const subsetLabels = destination.kubeService.subset
          if (subsetLabels && Object.keys(subsetLabels).length) {
            const problem = checkSubset(resolved.service!, subsetLabels, `${field}.kubeService`)
            if (problem) {
              errors.push(problem)
              continue
            }
            plan.subsetDemands.push({serviceKey: keyOf(resolved.service!), labels: subsetLabels})
          }
          route.push({
            destination: {
              host: resolved.host!,
              ...(subsetLabels && Object.keys(subsetLabels).length ? {subset: subsetName(subsetLabels)} : {}),
              ...(resolved.port ? {port: {number: resolved.port}} : {}),
            },
            ...weight,
          })
        } else if (fsRef) {
          const failover = failoverServices.get(failoverRefId(namespace, fsRef))
          if (!failover) continue // reported above, once
          const visible = failover.spec.meshes.some((m) => m.name === target.mesh)
          if (!visible) {
            errors.push(`${field}: ${resourceId(failover)} is not visible in mesh ${target.mesh} of ${describeService({name: target.serviceName, namespace: target.namespace, clusterName: target.cluster})}: add that mesh to its spec.meshes`)
            continue
          }
          if (fsRef.subset && Object.keys(fsRef.subset).length) {
            for (const backing of failover.spec.backingServices) {
              const service = context.services.get(serviceKey(backing.kubeService.name, backing.kubeService.namespace, backing.kubeService.clusterName))
              if (!service) continue // the FailoverService reports it
              const problem = checkSubset(service, fsRef.subset, field)
              if (problem) errors.push(problem)
              else plan.subsetDemands.push({serviceKey: keyOf(service), labels: fsRef.subset})
            }
          }
          route.push({
            destination: {
              host: failover.spec.hostname,
              ...(fsRef.subset && Object.keys(fsRef.subset).length ? {subset: subsetName(fsRef.subset)} : {}),
              port: {number: failover.spec.port.number},
            },
            ...weight,
          })
        }
      }
      fields.route = route
    }
    if (spec.requestTimeout) fields.timeout = protoDuration(spec.requestTimeout)
    if (spec.retries) {
      fields.retries = {
        attempts: spec.retries.attempts ?? 0,
        ...(spec.retries.perTryTimeout ? {perTryTimeout: protoDuration(spec.retries.perTryTimeout)} : {}),
      }
    }
    if (spec.faultInjection) {
      const fault = spec.faultInjection
      const percentage = fault.percentage === undefined ? {} : {percentage: {value: fault.percentage}}
      if (fault.abort) fields.fault = {abort: {httpStatus: fault.abort.httpStatus, ...percentage}}
      else if (fault.fixedDelay) fields.fault = {delay: {fixedDelay: protoDuration(fault.fixedDelay), ...percentage}}
      else errors.push('spec.faultInjection: set fixedDelay or abort')
    }
    if (spec.corsPolicy) {
      const cors = spec.corsPolicy
      fields.corsPolicy = {
        ...(cors.allowOrigins?.length ? {allowOrigins: cors.allowOrigins.map((o) => ({...o}))} : {}),
        ...(cors.allowMethods?.length ? {allowMethods: [...cors.allowMethods]} : {}),
        ...(cors.allowHeaders?.length ? {allowHeaders: [...cors.allowHeaders]} : {}),
        ...(cors.exposeHeaders?.length ? {exposeHeaders: [...cors.exposeHeaders]} : {}),
        ...(cors.maxAge ? {maxAge: protoDuration(cors.maxAge)} : {}),
        ...(cors.allowCredentials === undefined ? {} : {allowCredentials: cors.allowCredentials}),
      }
    }
    if (spec.headerManipulation) {
      const h = spec.headerManipulation
      const side = (add?: Record<string, string>, remove?: string[]) =>
        add && Object.keys(add).length || remove?.length
          ? {...(add && Object.keys(add).length ? {add: {...add}} : {}), ...(remove?.length ? {remove: [...remove]} : {})}
          : undefined
      const request = side(h.appendRequestHeaders, h.removeRequestHeaders)
      const response = side(h.appendResponseHeaders, h.removeResponseHeaders)
      fields.headers = {...(request ? {request} : {}), ...(response ? {response} : {})}
    }
    if (spec.mirror) {
      const resolved = destinationHost(context, reach, target, {...spec.mirror.kubeService, port: spec.mirror.port}, 'spec.mirror.kubeService')
      if (resolved.error) errors.push(resolved.error)
      else {
        if (resolved.service!.cluster !== target.cluster) remote.push(resolved.service!)
        fields.mirror = {
          mirror: {host: resolved.host!, ...(resolved.port ? {port: {number: resolved.port}} : {})},
          ...(spec.mirror.percentage === undefined ? {} : {mirrorPercentage: {value: spec.mirror.percentage}}),
        }
      }
    }
    if (errors.length) continue
    targetPlan.remote = remote

    // Multi-port services get one route copy per port, so the default destination keeps the request's port.
    const ports = target.ports.length > 1 ? target.ports.map((p) => p.port) : [undefined]
    const baseMatches: (HTTPMatchRequest | undefined)[] = matches.length ? matches : [undefined]
    for (const port of ports) {
      for (const base of baseMatches) {
        const match = port === undefined ? base : {...(base ?? {}), port}
        targetPlan.routes.push({key: match ? JSON.stringify(match) : '', ...(match ? {match} : {}), ...(port ? {port} : {}), fields})
      }
    }
  }
  return plan
}

/** The HTTP route for a merged set of fields; `route` falls back to the service itself. */
export function buildRoute(match: HTTPMatchRequest | undefined, port: number | undefined, shared: Partial<Record<RouteField, unknown>>, defaultHost: string): HTTPRoute {
  // Route copies (per port, per match) start from the same values: each output route gets its own tree.
  const fields = cloneJson(shared)
  match = match && cloneJson(match)
  const route: HTTPRoute = {}
  if (match) route.match = [match]
  route.route = (fields.route as HTTPRouteDestination[] | undefined) ?? [{destination: {host: defaultHost, ...(port ? {port: {number: port}} : {})}}]
  if (fields.timeout) route.timeout = fields.timeout as string
  if (fields.retries) route.retries = fields.retries as HTTPRoute['retries']
  if (fields.fault) route.fault = fields.fault as HTTPRoute['fault']
  if (fields.corsPolicy) route.corsPolicy = fields.corsPolicy as HTTPRoute['corsPolicy']
  if (fields.headers) route.headers = fields.headers as HTTPRoute['headers']
  if (fields.mirror) Object.assign(route, fields.mirror)
  return route
}

/** A deep copy of plain JSON data; several times faster than structuredClone for the small trees routes are. */
function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T
  if (value === null || typeof value !== 'object') return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) copy[key] = cloneJson((value as Record<string, unknown>)[key])
  return copy as T
}
