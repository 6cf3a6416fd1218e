/** `kubectl smh set outlier SERVICE...`: a TrafficPolicy with outlierDetection for the services. */
import type {OutlierDetection, TrafficPolicy} from '../../api/types.js'
import {
  type Plan, type VerbOptions, type VerbResult, type World, author, checkDuration, checkName, checkNamespace, checkRange, clusterObjectRef,
  defaultPolicyName, missingFlags, readWorld, resolveServices, resource,
} from './author.js'

export interface OutlierFlags {
  consecutiveErrors?: number
  interval?: string
  baseEjectionTime?: string
  maxEjectionPercent?: number
}

export interface SetOutlierOptions extends VerbOptions, OutlierFlags {
  /** SERVICE...: `CLUSTER/NS/SVC` or discovered names. */
  services: string[]
  /** --name: the policy's name (default `<svc>-outlier`). */
  name?: string
}

/** What must be given (the wizard asks for these on a terminal). */
export function setOutlierMissing(options: Partial<SetOutlierOptions>): string[] {
  return options.services?.length ? [] : ['SERVICE']
}

/** The outlierDetection the flags ask for: only what was given (the translator applies SMH's defaults to the rest). */
export function outlierDetectionFrom(flags: OutlierFlags): OutlierDetection {
  return {
    ...(checkRange(flags.consecutiveErrors, '--consecutive-errors', 1) === undefined ? {} : {consecutiveErrors: flags.consecutiveErrors}),
    ...(checkDuration(flags.interval, '--interval') === undefined ? {} : {interval: flags.interval}),
    ...(checkDuration(flags.baseEjectionTime, '--base-ejection-time') === undefined ? {} : {baseEjectionTime: flags.baseEjectionTime}),
    ...(checkRange(flags.maxEjectionPercent, '--max-ejection-percent', 0, 100) === undefined ? {} : {maxEjectionPercent: flags.maxEjectionPercent}),
  }
}

export function planSetOutlier(world: World, options: Omit<SetOutlierOptions, 'mgmt'>): Plan {
  const missing = setOutlierMissing(options)
  if (missing.length) throw missingFlags(missing)
  const namespace = checkNamespace(options.namespace)
  const services = resolveServices(world, options.services, 'SERVICE')
  const outlierDetection = outlierDetectionFrom(options)
  const name = options.name === undefined ? defaultPolicyName(services, 'outlier', 'kubectl smh set outlier ...') : checkName(options.name, '--name')
  const policy: TrafficPolicy = resource('TrafficPolicy', name, namespace, {
    destinationSelector: [{kubeServiceRefs: {services: services.map(clusterObjectRef)}}],
    outlierDetection,
  })
  return {resources: [policy], notes: []}
}

export async function setOutlier(options: SetOutlierOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  return author(world, planSetOutlier(world, options), options)
}
