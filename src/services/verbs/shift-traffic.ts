/**
 * `kubectl smh shift traffic SERVICE --to CLUSTER/NS/SVC[:LABEL=VALUE]=WEIGHT... | --to-failover NAME`: a
 * TrafficPolicy with trafficShift for one service.
 */
import {SMH_NAMESPACE, type FailoverService, type TrafficPolicy, type TrafficShiftDestination} from '../../api/types.js'
import type {MeshService} from '../../discovery/types.js'
import {UsageError} from '../../errors.js'
import {nearest} from '../../nearest.js'
import {
  type Plan, type VerbOptions, type VerbResult, type World, author, badValue, checkName, checkNamespace, clusterObjectRef, missingFlags,
  readWorld, resolveService, resource, serviceRef,
} from './author.js'

export interface ShiftTrafficOptions extends VerbOptions {
  /** SERVICE: `CLUSTER/NS/SVC` or the discovered name. */
  service?: string
  /** --to: `CLUSTER/NS/SVC[:LABEL=VALUE[,LABEL=VALUE]]=WEIGHT`, weights adding up to 100 (one alone may leave it out). */
  to?: string[]
  /** --to-failover: a FailoverService, `NAME` or `NAMESPACE/NAME`. */
  toFailover?: string
  /** --name: the policy's name (default `<svc>-shift` for --to, `<svc>-shift-<failover name>` for --to-failover). */
  name?: string
}

export function shiftTrafficMissing(options: Partial<ShiftTrafficOptions>): string[] {
  return [...(options.service ? [] : ['SERVICE']), ...(options.to?.length || options.toFailover ? [] : ['--to or --to-failover'])]
}

export interface ParsedDestination {
  service: string
  subset?: Record<string, string>
  weight?: number
}

/** `kind3/default/reviews:version=v3=50` → service, subset and weight (pure syntax; nothing looked up). */
export function parseDestination(value: string, flag = '--to'): ParsedDestination {
  const colon = value.indexOf(':')
  const service = colon < 0 ? value.replace(/=\d+$/, '') : value.slice(0, colon)
  let rest = colon < 0 ? value.slice(service.length) : value.slice(colon + 1)
  let weight: number | undefined
  const weighted = /^(.*)=(\d+)$/.exec(rest)
  if (weighted && (colon < 0 || weighted[1].includes('='))) {
    weight = Number(weighted[2])
    rest = weighted[1]
  }
  if (colon < 0 && rest !== '') throw new UsageError(`${flag} ${value}: expected CLUSTER/NS/SVC[:LABEL=VALUE]=WEIGHT, e.g. kind3/default/reviews:version=v3=50`)
  let subset: Record<string, string> | undefined
  if (colon >= 0) {
    subset = {}
    for (const pair of rest.split(',')) {
      const eq = pair.indexOf('=')
      if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`${flag} ${value}: the subset must be LABEL=VALUE (e.g. ${service}:version=v3=50)`)
      subset[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  }
  if (weight !== undefined && weight > 100) throw new UsageError(`${flag} ${value}: weight ${weight} is over 100; did you mean ${value.replace(/=\d+$/, '=100')}?`)
  return {service, ...(subset ? {subset} : {}), ...(weight === undefined ? {} : {weight})}
}

/** The pod labels of the workloads behind a service (what a subset may select). */
function workloadLabels(world: World, service: MeshService): Record<string, string>[] {
  const workloads = world.discovery.find((d) => d.cluster === service.cluster)?.workloads ?? []
  return workloads.filter((w) => service.workloads.includes(w.name)).map((w) => w.podLabels)
}

function checkSubset(world: World, service: MeshService, subset: Record<string, string>, value: string, flag: string): void {
  const labels = workloadLabels(world, service)
  if (labels.some((l) => Object.entries(subset).every(([k, v]) => l[k] === v))) return
  const keys = Object.keys(subset)
  // Candidates: the same keys with the values workloads have (and the keys that tell its workloads apart).
  const choices = new Set<string>()
  for (const l of labels) {
    if (keys.every((k) => l[k] !== undefined)) choices.add(`${serviceRef(service)}:${keys.map((k) => `${k}=${l[k]}`).join(',')}`)
    for (const k of Object.keys(service.subsets)) choices.add(`${serviceRef(service)}:${k}=${l[k]}`)
  }
  const asked = `${serviceRef(service)}:${keys.map((k) => `${k}=${subset[k]}`).join(',')}`
  const hint = choices.size ? `did you mean ${nearest(asked, choices)}?` : 'its workloads have no labels that tell them apart'
  throw new UsageError(`${flag} ${value}: no workload behind ${serviceRef(service)} has the labels ${keys.map((k) => `${k}=${subset[k]}`).join(',')}; ${hint}`)
}

function findFailover(world: World, value: string, flag: string): FailoverService {
  const all = world.resources.filter((r): r is FailoverService => r.kind === 'FailoverService')
  const parts = value.split('/')
  const [namespace, name] = parts.length === 2 ? parts : [undefined, value]
  const found = all.filter((fs) => fs.metadata.name === name && (namespace === undefined || (fs.metadata.namespace ?? SMH_NAMESPACE) === namespace))
  if (found.length === 1) return found[0]
  if (found.length > 1) throw new UsageError(`${flag} ${value}: FailoverServices of that name exist in ${found.map((f) => f.metadata.namespace).join(', ')}; give NAMESPACE/NAME, e.g. ${found[0].metadata.namespace}/${name}`)
  const names = all.map((fs) => (namespace === undefined ? fs.metadata.name : `${fs.metadata.namespace ?? SMH_NAMESPACE}/${fs.metadata.name}`))
  throw badValue(flag, value, 'no such FailoverService', names, 'there is no FailoverService: add one with kubectl smh add failoverservice NAME --hostname H --port P --backing CLUSTER/NS/SVC...')
}

export function planShiftTraffic(world: World, options: Omit<ShiftTrafficOptions, 'mgmt'>): Plan {
  const missing = shiftTrafficMissing(options)
  if (missing.length) throw missingFlags(missing)
  if (options.to?.length && options.toFailover) throw new UsageError(`--to and --to-failover ${options.toFailover}: give one of them (a FailoverService already weighs its backing services)`)
  const namespace = checkNamespace(options.namespace)
  const service = resolveService(world, options.service!, 'SERVICE')
  let destinations: TrafficShiftDestination[]
  let suffix: string
  if (options.toFailover) {
    const fs = findFailover(world, options.toFailover, '--to-failover')
    destinations = [{failoverServiceRef: {name: fs.metadata.name, namespace: fs.metadata.namespace ?? SMH_NAMESPACE}}]
    // reviews + reviews-failover → reviews-shift-failover (the seed's name); other names are kept whole.
    suffix = `shift-${fs.metadata.name.startsWith(`${service.serviceName}-`) ? fs.metadata.name.slice(service.serviceName.length + 1) : fs.metadata.name}`
  } else {
    const parsed = options.to!.map((value) => ({value, ...parseDestination(value)}))
    if (parsed.length > 1) {
      const unweighted = parsed.find((p) => p.weight === undefined)
      if (unweighted) throw new UsageError(`--to ${unweighted.value}: needs a weight when traffic goes to several destinations; e.g. ${unweighted.value}=${Math.floor(100 / parsed.length)}`)
    }
    const seen = new Map<string, string>()
    destinations = parsed.map((p) => {
      const target = resolveService(world, p.service, '--to')
      if (p.subset) checkSubset(world, target, p.subset, p.value, '--to')
      const key = `${target.name}:${JSON.stringify(Object.entries(p.subset ?? {}).sort())}`
      if (seen.has(key)) throw new UsageError(`--to ${p.value}: the same destination as --to ${seen.get(key)}; name each once and add up their weights`)
      seen.set(key, p.value)
      return {kubeService: {...clusterObjectRef(target), ...(p.subset ? {subset: p.subset} : {})}, weight: p.weight ?? 100}
    })
    const total = destinations.reduce((sum, d) => sum + (d.weight ?? 0), 0)
    if (total !== 100) {
      const last = parsed[parsed.length - 1]
      const fixed = (last.weight ?? 0) + 100 - total
      const hint = fixed >= 0 && fixed <= 100 ? `did you mean ${last.value.replace(/=\d+$/, `=${fixed}`)}?` : 'make them add up to 100'
      throw new UsageError(`--to: the weights add up to ${total}, not 100 (${parsed.map((p) => p.value).join(' ')}); ${hint}`)
    }
    suffix = 'shift'
  }
  const name = options.name === undefined ? `${service.serviceName}-${suffix}` : checkName(options.name, '--name')
  const policy: TrafficPolicy = resource('TrafficPolicy', name, namespace, {
    destinationSelector: [{kubeServiceRefs: {services: [clusterObjectRef(service)]}}],
    trafficShift: {destinations},
  })
  return {resources: [policy], notes: []}
}

export async function shiftTraffic(options: ShiftTrafficOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  return author(world, planShiftTraffic(world, options), options)
}
