/**
 * AccessPolicy → one ALLOW AuthorizationPolicy per selected service with one rule per policy; a VirtualMesh with
 * `globalAccessPolicy: ENABLED` → deny-all per mesh (an empty policy in the Istio root namespace) plus an allow
 * for each of its gateways, so federated traffic still enters.
 */
import type {AccessPolicy, IdentitySelector, ResourceStatus} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {MeshService} from '../discovery/types.js'
import {type AuthorizationPolicySpec, type IstioObject, authorizationPolicy} from './istio.js'
import {type Context, keyOf, newStatus} from './model.js'
import {selectServices, unmatchedIdentitySelectors} from './selectors.js'
import type {AcceptedVirtualMesh} from './virtual-mesh.js'

type Rule = NonNullable<AuthorizationPolicySpec['rules']>[number]
type From = NonNullable<Rule['from']>[number]

function trustDomainOf(context: Context, cluster: string): string | undefined {
  return context.meshesByCluster.get(cluster)?.[0]?.trustDomain
}

function fromSelector(context: Context, selector: IdentitySelector, field: string, errors: string[]): From | undefined {
  if (selector.kubeServiceAccountRefs) {
    const principals: string[] = []
    for (const [index, ref] of (selector.kubeServiceAccountRefs.serviceAccounts ?? []).entries()) {
      const domain = trustDomainOf(context, ref.clusterName)
      if (!domain) errors.push(`${field}.kubeServiceAccountRefs.serviceAccounts[${index}]: no Istio mesh found in cluster ${ref.clusterName}`)
      else principals.push(`${domain}/ns/${ref.namespace}/sa/${ref.name}`)
    }
    return principals.length ? {source: {principals}} : undefined
  }
  const matcher = selector.kubeIdentityMatcher
  if (!matcher || (!matcher.namespaces?.length && !matcher.clusters?.length)) return undefined // any source
  if (matcher.clusters?.length) {
    const principals: string[] = []
    for (const [index, cluster] of matcher.clusters.entries()) {
      const domain = trustDomainOf(context, cluster)
      if (!domain) {
        errors.push(`${field}.kubeIdentityMatcher.clusters[${index}]: no Istio mesh found in cluster ${cluster}`)
        continue
      }
      if (matcher.namespaces?.length) for (const ns of matcher.namespaces) principals.push(`${domain}/ns/${ns}/sa/*`)
      else principals.push(`${domain}/ns/*`)
    }
    return principals.length ? {source: {principals}} : undefined
  }
  return {source: {namespaces: [...matcher.namespaces!]}}
}

function ruleOf(context: Context, policy: AccessPolicy, errors: string[]): Rule {
  const spec = policy.spec
  const rule: Rule = {}
  const selectors = spec.sourceSelector ?? []
  const from: From[] = []
  let anySource = selectors.length === 0
  selectors.forEach((selector, index) => {
    const entry = fromSelector(context, selector, `spec.sourceSelector[${index}]`, errors)
    if (entry) from.push(entry)
    else if (!selector.kubeServiceAccountRefs) anySource = true
  })
  if (!anySource && from.length) rule.from = from
  if (spec.allowedPaths?.length || spec.allowedMethods?.length || spec.allowedPorts?.length) {
    rule.to = [
      {
        operation: {
          ...(spec.allowedPaths?.length ? {paths: [...spec.allowedPaths]} : {}),
          ...(spec.allowedMethods?.length ? {methods: [...spec.allowedMethods]} : {}),
          ...(spec.allowedPorts?.length ? {ports: spec.allowedPorts.map(String)} : {}),
        },
      },
    ]
  }
  return rule
}

export function translateAccess(context: Context, virtualMeshes: AcceptedVirtualMesh[]): {objects: IstioObject[]; statuses: ResourceStatus[]} {
  const statuses: ResourceStatus[] = []
  const perService = new Map<string, {service: MeshService; rules: Rule[]; sources: string[]}>()
  for (const policy of context.accessPolicies) {
    const status = newStatus(policy)
    statuses.push(status)
    const selected = selectServices(context, policy.spec.destinationSelector, 'spec.destinationSelector')
    status.errors.push(...selected.errors)
    const warnings = [...selected.warnings, ...unmatchedIdentitySelectors(context, policy.spec.sourceSelector, 'spec.sourceSelector')]
    if (warnings.length) status.warnings = warnings
    const rule = ruleOf(context, policy, status.errors)
    if (status.errors.length) {
      status.state = 'INVALID'
      continue
    }
    status.trafficTargets = {}
    for (const service of selected.services) {
      status.trafficTargets[service.name] = {state: 'ACCEPTED'}
      const entry = perService.get(keyOf(service)) ?? {service, rules: [], sources: []}
      entry.rules.push(rule)
      entry.sources.push(resourceId(policy))
      perService.set(keyOf(service), entry)
    }
  }
  const objects: IstioObject[] = []
  for (const {service, rules, sources} of perService.values()) {
    objects.push(
      authorizationPolicy(
        {cluster: service.cluster, name: service.serviceName, namespace: service.namespace, sources},
        {selector: {matchLabels: {...service.selector}}, action: 'ALLOW', rules},
      ),
    )
  }
  for (const vm of virtualMeshes) {
    if (vm.resource.spec.globalAccessPolicy !== 'ENABLED') continue
    for (const mesh of vm.meshes) {
      objects.push(authorizationPolicy({cluster: mesh.cluster, name: 'global-access-control', namespace: mesh.installationNamespace, sources: [vm.id]}, {}))
      for (const gw of mesh.gateways) {
        objects.push(
          authorizationPolicy(
            {cluster: mesh.cluster, name: `allow-${gw.serviceName}`, namespace: gw.namespace, sources: [vm.id]},
            {selector: {matchLabels: {...gw.workloadLabels}}, action: 'ALLOW', rules: [{}]},
          ),
        )
      }
    }
  }
  return {objects, statuses}
}
