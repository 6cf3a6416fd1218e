import type {TrafficTargetSelector} from '../api/types.js'
import type {MeshService} from '../discovery/types.js'
import {type Context, describeMissingService, keyOf, refKey} from './model.js'

function matcherSelects(matcher: NonNullable<TrafficTargetSelector['kubeServiceMatcher']>, service: MeshService): boolean {
  if (matcher.namespaces?.length && !matcher.namespaces.includes(service.namespace)) return false
  if (matcher.clusters?.length && !matcher.clusters.includes(service.cluster)) return false
  for (const [key, value] of Object.entries(matcher.labels ?? {})) if (service.labels[key] !== value) return false
  return true
}

/**
 * The services a destinationSelector picks: selectors are OR-ed, fields within one are AND-ed, an empty list picks
 * every service. A kubeServiceRef to a service that does not exist is an error naming it.
 */
export function selectServices(context: Context, selectors: TrafficTargetSelector[] | undefined, field: string): {services: MeshService[]; errors: string[]} {
  if (!selectors || selectors.length === 0) return {services: context.allServices, errors: []}
  const picked = new Map<string, MeshService>()
  const errors: string[] = []
  selectors.forEach((selector, index) => {
    for (const [refIndex, ref] of (selector.kubeServiceRefs?.services ?? []).entries()) {
      const service = context.services.get(refKey(ref))
      if (service) picked.set(keyOf(service), service)
      else errors.push(`${field}[${index}].kubeServiceRefs.services[${refIndex}]: ${describeMissingService(context, ref)}`)
    }
    const matcher = selector.kubeServiceMatcher
    if (matcher) for (const service of context.allServices) if (matcherSelects(matcher, service)) picked.set(keyOf(service), service)
    if (!matcher && !selector.kubeServiceRefs) for (const service of context.allServices) picked.set(keyOf(service), service)
  })
  // The map keeps discovery order (clusters sorted, then namespace/name): stable.
  return {services: [...picked.values()].sort((a, b) => context.serviceOrder.get(a)! - context.serviceOrder.get(b)!), errors}
}
