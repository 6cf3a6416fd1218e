/** `kubectl smh set route SERVICE...`: a TrafficPolicy with a request timeout and retries for the services. */
import type {TrafficPolicy} from '../../api/types.js'
import {UsageError} from '../../errors.js'
import {
  type Plan, type VerbOptions, type VerbResult, type World, author, checkDuration, checkName, checkNamespace, checkRange, clusterObjectRef,
  defaultPolicyName, missingFlags, readWorld, resolveServices, resource,
} from './author.js'

export interface SetRouteOptions extends VerbOptions {
  services: string[]
  /** --timeout: the request timeout (requestTimeout). */
  timeout?: string
  /** --retries: attempts. */
  retries?: number
  /** --per-try-timeout */
  perTryTimeout?: string
  /** --name: the policy's name (default `<svc>-route`). */
  name?: string
}

export function setRouteMissing(options: Partial<SetRouteOptions>): string[] {
  const missing = options.services?.length ? [] : ['SERVICE']
  if (options.timeout === undefined && options.retries === undefined && options.perTryTimeout === undefined) missing.push('--timeout or --retries')
  return missing
}

export function planSetRoute(world: World, options: Omit<SetRouteOptions, 'mgmt'>): Plan {
  const missing = setRouteMissing(options)
  if (missing.length) throw missingFlags(missing)
  const namespace = checkNamespace(options.namespace)
  const services = resolveServices(world, options.services, 'SERVICE')
  const timeout = checkDuration(options.timeout, '--timeout')
  const attempts = checkRange(options.retries, '--retries', 0)
  const perTryTimeout = checkDuration(options.perTryTimeout, '--per-try-timeout')
  if (perTryTimeout !== undefined && attempts === undefined) throw new UsageError(`--per-try-timeout ${perTryTimeout}: applies to retries; add --retries N (e.g. --retries 3)`)
  const name = options.name === undefined ? defaultPolicyName(services, 'route', 'kubectl smh set route ...') : checkName(options.name, '--name')
  const policy: TrafficPolicy = resource('TrafficPolicy', name, namespace, {
    destinationSelector: [{kubeServiceRefs: {services: services.map(clusterObjectRef)}}],
    ...(timeout === undefined ? {} : {requestTimeout: timeout}),
    ...(attempts === undefined ? {} : {retries: {attempts, ...(perTryTimeout === undefined ? {} : {perTryTimeout})}}),
  })
  return {resources: [policy], notes: []}
}

export async function setRoute(options: SetRouteOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  return author(world, planSetRoute(world, options), options)
}
