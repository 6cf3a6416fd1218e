import type {IdentitySelector, TrafficTargetSelector, WorkloadSelector} from '../api/types.js'
import type {MeshService, Workload} from '../discovery/types.js'
import {type Context, describeMissingService, keyOf, refKey} from './model.js'

/** A selector as the user wrote it, on one line: `{labels: {app: nope}}`. */
export function flowText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowText).join(', ')}]`
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${flowText(v)}`).join(', ')}}`
  return typeof value === 'string' && /^[\w./*-]+$/.test(value) ? value : JSON.stringify(value)
}

function matcherSelects(matcher: NonNullable<TrafficTargetSelector['kubeServiceMatcher']>, service: MeshService): boolean {
  if (matcher.namespaces?.length && !matcher.namespaces.includes(service.namespace)) return false
  if (matcher.clusters?.length && !matcher.clusters.includes(service.cluster)) return false
  for (const [key, value] of Object.entries(matcher.labels ?? {})) if (service.labels[key] !== value) return false
  return true
}

/**
 * The services a destinationSelector picks: selectors are OR-ed, fields within one are AND-ed, an empty list picks
 * every service. A kubeServiceRef to a service that does not exist is an error naming it. A matcher that picks no
 * service is no error (as in Service Mesh Hub: the service may come later) but a warning, as it is often a typo.
 */
export function selectServices(
  context: Context,
  selectors: TrafficTargetSelector[] | undefined,
  field: string,
): {services: MeshService[]; errors: string[]; warnings: string[]} {
  const nowhere = 'in any registered cluster'
  if (!selectors || selectors.length === 0) {
    const warnings = context.allServices.length ? [] : [`${field}: selects every service, and there is none ${nowhere}`]
    return {services: context.allServices, errors: [], warnings}
  }
  const picked = new Map<string, MeshService>()
  const errors: string[] = []
  const warnings: string[] = []
  selectors.forEach((selector, index) => {
    for (const [refIndex, ref] of (selector.kubeServiceRefs?.services ?? []).entries()) {
      const service = context.services.get(refKey(ref))
      if (service) picked.set(keyOf(service), service)
      else errors.push(`${field}[${index}].kubeServiceRefs.services[${refIndex}]: ${describeMissingService(context, ref)}`)
    }
    const matcher = selector.kubeServiceMatcher
    if (matcher) {
      const matched = context.allServices.filter((service) => matcherSelects(matcher, service))
      for (const service of matched) picked.set(keyOf(service), service)
      if (matched.length === 0) warnings.push(`${field}[${index}]: kubeServiceMatcher ${flowText(matcher)} matches no service ${nowhere}`)
    }
    if (!matcher && !selector.kubeServiceRefs) {
      for (const service of context.allServices) picked.set(keyOf(service), service)
      if (context.allServices.length === 0) warnings.push(`${field}[${index}]: ${flowText(selector)} matches no service ${nowhere}`)
    }
  })
  // The map keeps discovery order (clusters sorted, then namespace/name): stable.
  return {services: [...picked.values()].sort((a, b) => context.serviceOrder.get(a)! - context.serviceOrder.get(b)!), errors, warnings}
}

const allWorkloads = (context: Context): Workload[] => context.clusters.flatMap((c) => c.workloads)

function workloadSelects(selector: WorkloadSelector, workload: Workload): boolean {
  if (selector.namespaces?.length && !selector.namespaces.includes(workload.namespace)) return false
  if (selector.clusters?.length && !selector.clusters.includes(workload.cluster)) return false
  for (const [key, value] of Object.entries(selector.labels ?? {})) if (workload.podLabels[key] !== value) return false
  return true
}

/** TrafficPolicy sources (workload selectors) that match no workload: one warning each. */
export function unmatchedWorkloadSelectors(context: Context, selectors: WorkloadSelector[] | undefined, field: string): string[] {
  const workloads = allWorkloads(context)
  return (selectors ?? []).flatMap((selector, index) =>
    workloads.some((w) => workloadSelects(selector, w)) ? [] : [`${field}[${index}]: ${flowText(selector)} matches no workload in any registered cluster`],
  )
}

/**
 * AccessPolicy sources (identities) that no workload has: a service account no workload of the mesh runs as, or a
 * kubeIdentityMatcher with no workload in its namespaces and clusters. One warning each; a missing cluster or mesh
 * is an error elsewhere.
 */
export function unmatchedIdentitySelectors(context: Context, selectors: IdentitySelector[] | undefined, field: string): string[] {
  const workloads = allWorkloads(context)
  const warnings: string[] = []
  ;(selectors ?? []).forEach((selector, index) => {
    for (const [refIndex, ref] of (selector.kubeServiceAccountRefs?.serviceAccounts ?? []).entries()) {
      if (!context.meshesByCluster.get(ref.clusterName)?.length) continue
      const used = workloads.some((w) => w.cluster === ref.clusterName && w.namespace === ref.namespace && w.serviceAccountName === ref.name)
      if (!used) warnings.push(`${field}[${index}].kubeServiceAccountRefs.serviceAccounts[${refIndex}]: service account ${ref.name}.${ref.namespace} in cluster ${ref.clusterName} is used by no workload of the mesh`)
    }
    const matcher = selector.kubeIdentityMatcher
    if (matcher && !workloads.some((w) => workloadSelects(matcher, w))) {
      warnings.push(`${field}[${index}]: kubeIdentityMatcher ${flowText(matcher)} matches no workload in any registered cluster`)
    }
  })
  return warnings
}
