/** `kubectl smh allow access --from CLUSTER/NS/SA... --to SERVICE...`: an AccessPolicy by workload identity. */
import type {AccessPolicy} from '../../api/types.js'
import {UsageError} from '../../errors.js'
import {
  type Plan, type VerbOptions, type VerbResult, type World, author, checkName, checkNamespace, clusterObjectRef, missingFlags, readWorld,
  resolveIdentity, resolveServices, resource,
} from './author.js'

export interface AllowAccessOptions extends VerbOptions {
  /** --from: identities `CLUSTER/NS/SERVICEACCOUNT`. */
  from: string[]
  /** --to: services `CLUSTER/NS/SVC` or discovered names. */
  to: string[]
  /** --name: the policy's name (default `<serviceaccount>-to-<svc>` for one of each). */
  name?: string
}

export function allowAccessMissing(options: Partial<AllowAccessOptions>): string[] {
  return [...(options.from?.length ? [] : ['--from']), ...(options.to?.length ? [] : ['--to'])]
}

export function planAllowAccess(world: World, options: Omit<AllowAccessOptions, 'mgmt'>): Plan {
  const missing = allowAccessMissing(options)
  if (missing.length) throw missingFlags(missing)
  const namespace = checkNamespace(options.namespace)
  const seen = new Map<string, string>()
  const identities = options.from.map((value) => {
    const ref = resolveIdentity(world, value, '--from')
    const key = `${ref.clusterName}/${ref.namespace}/${ref.name}`
    if (seen.has(key)) throw new UsageError(`--from ${value}: the same identity as --from ${seen.get(key)}; name each once`)
    seen.set(key, value)
    return ref
  })
  const services = resolveServices(world, options.to, '--to')
  let name: string
  if (options.name !== undefined) name = checkName(options.name, '--name')
  else if (new Set(identities.map((i) => i.name)).size === 1 && new Set(services.map((s) => s.serviceName)).size === 1) name = `${identities[0].name}-to-${services[0].serviceName}`
  else throw new UsageError(`--name is needed with several identities or services (no default); e.g. --name ${identities[0].name}-to-${services[0].serviceName}`)
  const policy: AccessPolicy = resource('AccessPolicy', name, namespace, {
    sourceSelector: [{kubeServiceAccountRefs: {serviceAccounts: identities}}],
    destinationSelector: [{kubeServiceRefs: {services: services.map(clusterObjectRef)}}],
  })
  // Istio's ALLOW semantics: once a workload has an ALLOW policy, what no policy allows is denied.
  const others = world.resources.filter((r) => r.kind === 'AccessPolicy' && !(r.metadata.name === name && (r.metadata.namespace ?? 'service-mesh-hub') === namespace))
  const notes = others.length ? [] : [`this is the first AccessPolicy: calls to ${services.map((s) => `${s.cluster}/${s.namespace}/${s.serviceName}`).join(', ')} from other identities are now denied (Istio ALLOW policy)`]
  return {resources: [policy], notes}
}

export async function allowAccess(options: AllowAccessOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  return author(world, planAllowAccess(world, options), options)
}
