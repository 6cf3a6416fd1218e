/**
 * Field ownership, as Service Mesh Hub did it, extended to VirtualService routes (their issue #1131): the policy
 * accepted first owns each field it sets on an output (a route's retries, the DestinationRule's outlier
 * detection...). A later policy setting the same field to a different value is INVALID and names the owner; the
 * same value is fine. Routes with equal matches from several policies merge into one route.
 */
import type {MeshService} from '../discovery/types.js'
import type {DestinationRuleContribution, RouteField, TrafficPolicyPlan} from './traffic-policy.js'
import type {HTTPMatchRequest} from './istio.js'
import {keyOf} from './model.js'
import {describeMatch} from './routes.js'

export interface MergedRoute {
  match?: HTTPMatchRequest
  port?: number
  fields: Partial<Record<RouteField, unknown>>
}

/** Everything accepted policies ask of one service. */
export interface ServiceOutputs {
  target: MeshService
  routes: Map<string, MergedRoute>
  routeSources: Set<string>
  destinationRule: DestinationRuleContribution
  destinationRuleSources: Set<string>
}

export interface Settlement {
  accepted: TrafficPolicyPlan[]
  /** policy id → target name → errors */
  conflicts: Map<string, Map<string, string[]>>
  outputs: Map<string, ServiceOutputs>
}

const stable = (value: unknown) => JSON.stringify(value)

export function settleTrafficPolicies(plans: TrafficPolicyPlan[], rejected: Set<string>): Settlement {
  // Values are compared (serialised) only when a second policy claims a field: most fields have one owner.
  const owners = new Map<string, {value: unknown; owner: string}>()
  const outputs = new Map<string, ServiceOutputs>()
  const accepted: TrafficPolicyPlan[] = []
  const conflicts = new Map<string, Map<string, string[]>>()
  for (const plan of plans) {
    if (rejected.has(plan.id) || plan.errors.length || plan.targets.some((t) => t.errors.length)) continue
    const claims: {key: string; value: unknown}[] = []
    const found = new Map<string, string[]>()
    const where = (target: MeshService) => `in cluster ${target.cluster}`
    for (const {target, routes, destinationRule} of plan.targets) {
      const targetKey = keyOf(target)
      const claim = (key: string, value: unknown, describe: string) => {
        const owner = owners.get(key)
        if (owner && owner.owner !== plan.id && owner.value !== value && stable(owner.value) !== stable(value)) {
          found.set(target.name, [...(found.get(target.name) ?? []), `conflicts with ${owner.owner}: both set ${describe} ${where(target)} to different values`])
        }
        claims.push({key, value})
      }
      for (const route of routes) {
        for (const [field, value] of Object.entries(route.fields)) {
          claim(`${targetKey}|vs|${route.key}|${field}`, value, `${field} on ${describeMatch(route.match)} of VirtualService ${target.namespace}/${target.serviceName}`)
        }
      }
      if (destinationRule.outlierDetection) claim(`${targetKey}|dr|outlierDetection`, destinationRule.outlierDetection, `trafficPolicy.outlierDetection of DestinationRule ${target.namespace}/${target.serviceName}`)
      if (destinationRule.tls) claim(`${targetKey}|dr|tls`, destinationRule.tls, `trafficPolicy.tls of DestinationRule ${target.namespace}/${target.serviceName}`)
    }
    if (found.size) {
      conflicts.set(plan.id, found)
      continue
    }
    for (const {key, value} of claims) if (!owners.has(key)) owners.set(key, {value, owner: plan.id})
    accepted.push(plan)
    for (const {target, routes, destinationRule} of plan.targets) {
      const targetKey = keyOf(target)
      let out = outputs.get(targetKey)
      if (!out) {
        out = {target, routes: new Map(), routeSources: new Set(), destinationRule: {}, destinationRuleSources: new Set()}
        outputs.set(targetKey, out)
      }
      for (const route of routes) {
        const merged = out.routes.get(route.key) ?? {...(route.match ? {match: route.match} : {}), ...(route.port ? {port: route.port} : {}), fields: {}}
        Object.assign(merged.fields, route.fields)
        out.routes.set(route.key, merged)
        out.routeSources.add(plan.id)
      }
      if (destinationRule.outlierDetection || destinationRule.tls) {
        out.destinationRule = {...out.destinationRule, ...destinationRule}
        out.destinationRuleSources.add(plan.id)
      }
    }
  }
  return {accepted, conflicts, outputs}
}
