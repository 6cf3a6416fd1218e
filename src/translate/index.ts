/**
 * The translator: SMH resources + what discovery found in each cluster → the Istio objects each cluster needs, and
 * the status of every SMH resource. Pure and deterministic: no I/O, no clock, no randomness; same input, same
 * output, in the same order (clusters sorted; inside a cluster by kind, namespace, name).
 */
import type {ResourceStatus, SmhResource} from '../api/types.js'
import {resourceId} from '../api/types.js'
import {discoverCluster} from '../discovery/discover.js'
import type {ClusterDiscovery, DiscoveryOptions, KubeObject} from '../discovery/types.js'
import {translateAccess} from './access.js'
import {settleTrafficPolicies} from './conflicts.js'
import {type CheckedFailover, checkFailoverServices, translateFailover} from './failover.js'
import {type FederationDemand, addDemand, translateFederation} from './federation.js'
import {FAILOVER_STRATEGY_ANNOTATION} from './failover.js'
import {type IstioObject, KIND_ORDER, type OutlierDetectionSettings, destinationRule, validateIstioObject, virtualService} from './istio.js'
import {buildContext, keyOf, newStatus, serviceLocalFqdn} from './model.js'
import {VirtualIpAllocator, subsetName} from './naming.js'
import {sortRoutes} from './routes.js'
import {selectServices, unmatchedWorkloadSelectors} from './selectors.js'
import {type TrafficPolicyPlan, buildRoute, failoverRefId, planTrafficPolicy} from './traffic-policy.js'
import {checkVirtualMeshes} from './virtual-mesh.js'

export type {IstioObject} from './istio.js'

export interface TranslateInput {
  resources: SmhResource[]
  /** Cluster name → its objects (a `kubectl get ... -A -o yaml` List's items). */
  snapshots?: Record<string, KubeObject[]>
  /** Or clusters already discovered (the live path, the benchmark). */
  discovered?: ClusterDiscovery[]
  discoveryOptions?: DiscoveryOptions
  /** Check every output against @kubernetes-models/istio's schemas (default true). */
  validate?: boolean
}

export interface TranslateResult {
  /** Cluster name → the Istio objects to apply there (every cluster of the input, possibly with none). */
  clusters: Record<string, IstioObject[]>
  statuses: ResourceStatus[]
  discovery: ClusterDiscovery[]
}

export function translate(input: TranslateInput): TranslateResult {
  const discovery =
    input.discovered ??
    Object.keys(input.snapshots ?? {})
      .sort()
      .map((cluster) => discoverCluster(cluster, input.snapshots![cluster], input.discoveryOptions))
  const context = buildContext(input.resources, discovery)
  const statuses: ResourceStatus[] = []

  const virtualMeshes = checkVirtualMeshes(context)
  statuses.push(...virtualMeshes.statuses)
  const reach = virtualMeshes.reach

  const failoverById = new Map(context.failoverServices.map((fs) => [resourceId(fs), fs]))
  const selectorWarnings = new Map<string, string[]>()
  const plans: TrafficPolicyPlan[] = context.trafficPolicies.map((policy) => {
    const selected = selectServices(context, policy.spec.destinationSelector, 'spec.destinationSelector')
    selectorWarnings.set(resourceId(policy), [...selected.warnings, ...unmatchedWorkloadSelectors(context, policy.spec.sourceSelector, 'spec.sourceSelector')])
    return planTrafficPolicy(context, reach, failoverById, policy, selected.services, selected.errors)
  })

  // Policies that shift to an invalid FailoverService are rejected, which can take outlier detection away from
  // another FailoverService: settle until nothing changes (each round rejects at least one more policy).
  const rejectedForFailover = new Map<string, string[]>()
  let settlement = settleTrafficPolicies(plans, new Set())
  let failovers = checkFailoverServices(context, reach, outlierDetectionOf(settlement.outputs))
  for (;;) {
    let changed = false
    for (const plan of settlement.accepted) {
      const invalid = plan.failoverRefs.filter((id) => failoverById.has(id) && !failovers.valid.has(id))
      if (invalid.length && !rejectedForFailover.has(plan.id)) {
        rejectedForFailover.set(plan.id, invalid.map((id) => `shifts traffic to ${id}, which is INVALID`))
        changed = true
      }
    }
    if (!changed) break
    settlement = settleTrafficPolicies(plans, new Set(rejectedForFailover.keys()))
    failovers = checkFailoverServices(context, reach, outlierDetectionOf(settlement.outputs))
  }
  statuses.push(...failovers.statuses)

  for (const plan of plans) {
    const status = newStatus(plan.policy)
    statuses.push(status)
    status.errors.push(...plan.errors)
    const warnings = selectorWarnings.get(plan.id) ?? []
    if (warnings.length) status.warnings = warnings
    status.trafficTargets = {}
    const conflicts = settlement.conflicts.get(plan.id)
    const rejected = rejectedForFailover.get(plan.id) ?? []
    for (const {target, errors} of plan.targets) {
      const targetErrors = [...errors, ...(conflicts?.get(target.name) ?? [])]
      if (rejected.length && !targetErrors.length) {
        status.trafficTargets[target.name] = {state: 'INVALID', errors: rejected}
        continue
      }
      status.trafficTargets[target.name] = targetErrors.length ? {state: 'INVALID', errors: targetErrors} : {state: 'ACCEPTED'}
      status.errors.push(...targetErrors.map((e) => `${target.name}: ${e}`))
    }
    status.errors.push(...rejected)
    if (status.errors.length) status.state = 'INVALID'
  }

  const objects: IstioObject[] = []
  const accepted = settlement.accepted.filter((plan) => !rejectedForFailover.has(plan.id))

  // Subsets: those accepted policies route to, directly or through a FailoverService's backing services.
  const subsets = new Map<string, Map<string, Record<string, string>>>()
  const subsetSources = new Map<string, Set<string>>()
  const failoverSubsets = new Map<string, Map<string, Record<string, string>>>()
  for (const plan of accepted) {
    for (const demand of plan.subsetDemands) {
      const forService = subsets.get(demand.serviceKey) ?? new Map()
      forService.set(subsetName(demand.labels), demand.labels)
      subsets.set(demand.serviceKey, forService)
      subsetSources.set(demand.serviceKey, (subsetSources.get(demand.serviceKey) ?? new Set()).add(plan.id))
    }
    for (const destination of plan.policy.spec.trafficShift?.destinations ?? []) {
      const ref = destination.failoverServiceRef ?? destination.failoverService
      if (!ref?.subset || Object.keys(ref.subset).length === 0) continue
      const id = failoverRefId(plan.policy.metadata.namespace ?? 'service-mesh-hub', ref)
      const forFailover = failoverSubsets.get(id) ?? new Map()
      forFailover.set(subsetName(ref.subset), ref.subset)
      failoverSubsets.set(id, forFailover)
    }
  }
  const sortedSubsets = (map: Map<string, Record<string, string>> | undefined): Record<string, string>[] => !map ? [] : [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, labels]) => labels)

  // Per service: the VirtualService (routes most specific first) and the DestinationRule.
  const outlierDetection = outlierDetectionOf(settlement.outputs)
  for (const service of context.allServices) {
    const key = `${service.serviceName}/${service.namespace}/${service.cluster}`
    const out = settlement.outputs.get(key)
    if (!out && !subsets.has(key)) continue
    const host = serviceLocalFqdn(context, service)
    const placementOf = (sources: Iterable<string>) => ({cluster: service.cluster, name: service.serviceName, namespace: service.namespace, sources})
    if (out && out.routes.size) {
      const routes = sortRoutes([...out.routes.entries()].map(([routeKey, r]) => ({key: routeKey, route: buildRoute(r.match, r.port, r.fields, host)})))
      // Requests no policy matches must still reach the service, as they did before any VirtualService existed.
      if (routes.every((r) => r.match)) routes.push({route: [{destination: {host}}]})
      objects.push(virtualService(placementOf(out.routeSources), {hosts: [host], http: routes}))
    }
    const wanted = sortedSubsets(subsets.get(key))
    if ((out && (out.destinationRule.outlierDetection || out.destinationRule.tls)) || wanted.length) {
      const trafficPolicy = {
        ...(out?.destinationRule.outlierDetection ? {outlierDetection: out.destinationRule.outlierDetection} : {}),
        ...(out?.destinationRule.tls ? {tls: out.destinationRule.tls} : {}),
      }
      objects.push(
        destinationRule(placementOf([...(out?.destinationRuleSources ?? []), ...(subsetSources.get(key) ?? [])]), {
          host,
          ...(Object.keys(trafficPolicy).length ? {trafficPolicy} : {}),
          ...(wanted.length ? {subsets: wanted.map((labels) => ({name: subsetName(labels), labels: {...labels}}))} : {}),
        }),
      )
    }
  }

  const federationSources = new Map<string, Set<string>>()
  for (const [key, out] of settlement.outputs) if (out.destinationRule.outlierDetection) federationSources.set(key, new Set(out.destinationRuleSources))
  for (const [key, sources] of subsetSources) federationSources.set(key, new Set([...(federationSources.get(key) ?? []), ...sources]))
  const federationSubsets = new Map<string, Record<string, string>[]>()
  for (const key of subsets.keys()) federationSubsets.set(key, sortedSubsets(subsets.get(key)))
  const demand = federationDemand(accepted, settlement.conflicts, [...failovers.valid.values()] as CheckedFailover[])
  // Not push(...): a fleet's federation is hundreds of thousands of objects, past the engine's argument limit.
  for (const object of translateFederation(context, virtualMeshes.accepted, {subsets: federationSubsets, outlierDetection, sources: federationSources}, demand)) objects.push(object)

  for (const fs of failovers.valid.values()) objects.push(...translateFailover(context, fs as CheckedFailover, sortedSubsets(failoverSubsets.get(fs.id)), outlierDetection))

  const access = translateAccess(context, virtualMeshes.accepted)
  for (const object of access.objects) objects.push(object)
  statuses.push(...access.statuses)
  for (const resource of input.resources) if (resource.kind === 'KubernetesCluster') statuses.push(newStatus(resource))

  return {clusters: finalize(context.clusterNames, objects, input.validate ?? true), statuses: sortStatuses(statuses), discovery}
}

/**
 * What routes to services in other clusters (on-demand federation): each accepted target's traffic-shift and mirror
 * destinations, into the target's cluster, for the namespaces its routes are limited to (sourceSelector namespaces)
 * or all; each valid FailoverService's remote backing services, into its meshes' clusters, for all namespaces (its
 * EnvoyFilter applies to every sidecar). The locality strategy reaches the remote gateway directly: no demand.
 */
export function federationDemand(accepted: TrafficPolicyPlan[], conflicts: Map<string, Map<string, string[]>>, failovers: CheckedFailover[]): FederationDemand {
  const demand: FederationDemand = new Map()
  for (const plan of accepted) {
    for (const {target, remote, errors} of plan.targets) {
      if (errors.length || conflicts.get(plan.id)?.get(target.name)?.length) continue
      if (remote.length === 0) continue
      const namespaces = routedNamespaces(plan, target.cluster)
      for (const service of remote) addDemand(demand, keyOf(service), target.cluster, namespaces)
    }
  }
  for (const fs of failovers) {
    if (fs.resource.metadata.annotations?.[FAILOVER_STRATEGY_ANNOTATION] === 'locality') continue
    for (const mesh of fs.meshes) for (const service of fs.backing) if (service.cluster !== mesh.cluster) addDemand(demand, keyOf(service), mesh.cluster, '*')
  }
  return demand
}

/** The namespaces whose sidecars a policy's routes in `cluster` apply to: those of its sourceSelector when every entry there names some, else all. */
function routedNamespaces(plan: TrafficPolicyPlan, cluster: string): string[] | '*' {
  const sources = (plan.policy.spec.sourceSelector ?? []).filter((s) => !s.clusters?.length || s.clusters.includes(cluster))
  if (sources.length === 0 || sources.some((s) => !s.namespaces?.length)) return '*'
  return [...new Set(sources.flatMap((s) => s.namespaces!))]
}

function outlierDetectionOf(outputs: ReturnType<typeof settleTrafficPolicies>['outputs']): Map<string, OutlierDetectionSettings> {
  const map = new Map<string, OutlierDetectionSettings>()
  for (const [key, out] of outputs) if (out.destinationRule.outlierDetection) map.set(key, out.destinationRule.outlierDetection)
  return map
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Groups by cluster, sorts, gives ServiceEntries their virtual IPs (in host order, so they are stable) and validates. */
function finalize(clusterNames: string[], objects: IstioObject[], validate: boolean): Record<string, IstioObject[]> {
  const clusters: Record<string, IstioObject[]> = {}
  for (const name of clusterNames) clusters[name] = []
  for (const object of objects) (clusters[object.metadata.annotations['smh.solo.io/cluster']] ??= []).push(object)
  const kindRank = new Map(KIND_ORDER.map((kind, index) => [kind, index]))
  for (const [cluster, list] of Object.entries(clusters)) {
    // Bucket by kind and namespace, then sort names with the built-in comparator (no call back into JavaScript,
    // and no concatenated keys to hash); the same name twice is a translator bug.
    const buckets: Map<string, Map<string, IstioObject>>[] = KIND_ORDER.map(() => new Map())
    for (const object of list) {
      const byNamespace = buckets[kindRank.get(object.kind)!]
      const {namespace, name} = object.metadata
      let names = byNamespace.get(namespace)
      if (!names) byNamespace.set(namespace, (names = new Map()))
      const twin = names.get(name)
      if (twin) {
        throw new Error(`internal error: two ${object.kind} ${namespace}/${name} for cluster ${cluster} (from ${twin.metadata.annotations['smh.solo.io/sources']} and ${object.metadata.annotations['smh.solo.io/sources']})`)
      }
      names.set(name, object)
    }
    let position = 0
    for (const byNamespace of buckets) {
      for (const namespace of [...byNamespace.keys()].sort()) {
        const names = byNamespace.get(namespace)!
        for (const name of [...names.keys()].sort()) list[position++] = names.get(name)!
      }
    }
    // Virtual IPs in host order, so that they are stable whatever the objects' names.
    const allocator = new VirtualIpAllocator()
    const entriesByHost = new Map<string, IstioObject[]>()
    for (const o of list) {
      const spec = o.spec as {hosts?: string[]; addresses?: string[]} | undefined
      if (o.kind !== 'ServiceEntry' || !Array.isArray(spec?.addresses) || spec.addresses.length !== 0) continue
      const host = spec.hosts![0]
      const same = entriesByHost.get(host)
      if (same) same.push(o)
      else entriesByHost.set(host, [o])
    }
    for (const host of [...entriesByHost.keys()].sort()) {
      for (const entry of entriesByHost.get(host)!) (entry.spec as {addresses: string[]}).addresses = [allocator.allocate(host)]
    }
    if (validate) for (const object of list) validateIstioObject(object)
  }
  return clusters
}

const STATUS_KIND_ORDER = ['KubernetesCluster', 'VirtualMesh', 'FailoverService', 'TrafficPolicy', 'AccessPolicy']
function sortStatuses(statuses: ResourceStatus[]): ResourceStatus[] {
  return statuses.sort(
    (a, b) => STATUS_KIND_ORDER.indexOf(a.kind) - STATUS_KIND_ORDER.indexOf(b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name),
  )
}
