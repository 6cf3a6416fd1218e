/**
 * `kubectl smh add failoverservice NAME --hostname H --port P[/PROTO] --backing CLUSTER/NS/SVC...`: a FailoverService
 * (the order of --backing is the priority), and outlier detection for backing services that have none.
 */
import {type FailoverService, type OutlierDetection, type SmhResource, type TrafficPolicy, resourceId} from '../../api/types.js'
import type {Mesh, MeshService} from '../../discovery/types.js'
import {UsageError} from '../../errors.js'
import {translate} from '../../translate/index.js'
import {nearest} from '../../nearest.js'
import {
  type Plan, type VerbOptions, type VerbResult, type World, asDnsName, author, badValue, checkName, checkNamespace, clusterObjectRef, meshRef,
  missingFlags, readWorld, resolveMesh, resolveServices, resource, serviceRef,
} from './author.js'
import {type OutlierFlags, outlierDetectionFrom} from './set-outlier.js'

export interface AddFailoverServiceOptions extends VerbOptions, Omit<OutlierFlags, 'maxEjectionPercent'> {
  name?: string
  hostname?: string
  /** `P[/PROTO]`, PROTO default http. */
  port?: string
  /** Backing services, highest priority first. */
  backing?: string[]
  /** Meshes the FailoverService is visible in (default: the mesh of the first backing service). */
  mesh?: string[]
  /** Make a backing service without outlier detection an error instead of adding a TrafficPolicy. */
  noOutlier?: boolean
}

/** Service Mesh Hub's outlier detection defaults, written out in the TrafficPolicy the verb adds. */
export const SMH_OUTLIER_DEFAULTS: Required<OutlierDetection> = {consecutiveErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100}

export const FAILOVER_PROTOCOLS = ['http', 'http2', 'https', 'grpc', 'tcp', 'tls', 'mongo', 'mysql', 'redis']

export function addFailoverServiceMissing(options: Partial<AddFailoverServiceOptions>): string[] {
  return [
    ...(options.name ? [] : ['NAME']), ...(options.hostname ? [] : ['--hostname']), ...(options.port ? [] : ['--port']),
    ...(options.backing?.length ? [] : ['--backing']),
  ]
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A DNS name under .global (where Service Mesh Hub's federated names live). */
export function checkHostname(value: string, flag = '--hostname'): string {
  if (!DNS_NAME.test(value) || value.length > 253) {
    const fixed = asDnsName(value)
    throw new UsageError(`${flag} ${value}: not a DNS name (lowercase letters, digits, '-' and '.'); did you mean ${fixed.endsWith('.global') ? fixed : `${fixed || 'reviews-failover.default'}.global`}?`)
  }
  if (!value.endsWith('.global') || value === 'global') throw new UsageError(`${flag} ${value}: must end in .global, as Service Mesh Hub's failover names do; did you mean ${value}.global?`)
  return value
}

/** `9080`, `9080/http`. */
export function parsePort(value: string, flag = '--port'): {number: number; protocol: string} {
  const match = /^(\d+)(?:\/(.*))?$/.exec(value)
  if (!match) throw new UsageError(`${flag} ${value}: expected PORT[/PROTOCOL], e.g. 9080/http`)
  const number = Number(match[1])
  if (number < 1 || number > 65535) throw new UsageError(`${flag} ${value}: port ${number} is not from 1 to 65535`)
  const protocol = (match[2] ?? 'http').toLowerCase()
  if (!FAILOVER_PROTOCOLS.includes(protocol)) throw badValue(flag, value, `unknown protocol ${match[2]}`, FAILOVER_PROTOCOLS.map((p) => `${number}/${p}`))
  return {number, protocol}
}

/** The services to which an ACCEPTED TrafficPolicy gives outlier detection (leaving out one policy, about to be rewritten). */
export function servicesWithOutlierDetection(world: World, except?: string): Set<string> {
  const resources = world.resources.filter((r) => resourceId(r) !== except)
  const byId = new Map(resources.map((r) => [resourceId(r), r]))
  const translation = translate({resources, discovered: world.discovery, validate: false})
  const services = new Set<string>()
  for (const status of translation.statuses) {
    if (status.kind !== 'TrafficPolicy' || status.state !== 'ACCEPTED') continue
    const policy = byId.get(`${status.kind}/${status.namespace}/${status.name}`) as TrafficPolicy | undefined
    if (!policy?.spec.outlierDetection) continue
    for (const [target, approval] of Object.entries(status.trafficTargets ?? {})) if (approval.state === 'ACCEPTED') services.add(target)
  }
  return services
}

export function planAddFailoverService(world: World, options: Omit<AddFailoverServiceOptions, 'mgmt'>): Plan {
  const missing = addFailoverServiceMissing(options)
  if (missing.length) throw missingFlags(missing)
  const name = checkName(options.name!, 'NAME')
  const namespace = checkNamespace(options.namespace)
  const hostname = checkHostname(options.hostname!)
  const port = parsePort(options.port!)
  const backing = resolveServices(world, options.backing!, '--backing')
  for (const [index, service] of backing.entries()) {
    if (!service.ports.some((p) => p.port === port.number)) {
      const ports = service.ports.map((p) => String(p.port))
      throw new UsageError(`--port ${options.port}: --backing ${options.backing![index]} has no port ${port.number}; did you mean ${nearest(String(port.number), ports)}/${port.protocol}? (its ports: ${ports.join(', ')})`)
    }
  }
  const notes: string[] = []
  let meshes: Mesh[]
  if (options.mesh?.length) {
    meshes = []
    for (const value of options.mesh) {
      const mesh = resolveMesh(world, value, '--mesh')
      if (meshes.includes(mesh)) throw new UsageError(`--mesh ${value}: given twice; name each mesh once`)
      meshes.push(mesh)
    }
  } else {
    meshes = [resolveMesh(world, backing[0].mesh, '--backing')]
    notes.push(`--mesh not given: ${hostname} is served in mesh ${meshes[0].name}, the mesh of the first backing service ${serviceRef(backing[0])} (add --mesh for more)`)
  }
  const id = `FailoverService/${namespace}/${name}`
  const taken = world.resources.find((r) => r.kind === 'FailoverService' && r.spec.hostname === hostname && resourceId(r) !== id)
  if (taken) throw new UsageError(`--hostname ${hostname}: already the hostname of ${resourceId(taken)}; choose another (e.g. ${name}.${backing[0].namespace}.global) or re-run with that FailoverService's name`)

  const resources: SmhResource[] = []
  const outlierName = `${name}-outlier`
  const withOutlier = servicesWithOutlierDetection(world, `TrafficPolicy/${namespace}/${outlierName}`)
  const lacking = backing.filter((s: MeshService) => !withOutlier.has(s.name))
  if (lacking.length && options.noOutlier) {
    throw new UsageError(`--no-outlier: ${lacking.map(serviceRef).join(', ')} ${lacking.length === 1 ? 'has' : 'have'} no outlier detection, which failover needs to eject failing endpoints; first run kubectl smh set outlier ${lacking.map(serviceRef).join(' ')}`)
  }
  const given = outlierDetectionFrom(options)
  if (lacking.length) {
    const outlierDetection = {...SMH_OUTLIER_DEFAULTS, ...given}
    resources.push(resource('TrafficPolicy', outlierName, namespace, {
      destinationSelector: [{kubeServiceRefs: {services: lacking.map(clusterObjectRef)}}],
      outlierDetection,
    }) as TrafficPolicy)
    notes.push(`${lacking.map(serviceRef).join(', ')} had no outlier detection, which failover needs: added TrafficPolicy ${namespace}/${outlierName} (consecutiveErrors ${outlierDetection.consecutiveErrors}, interval ${outlierDetection.interval}, baseEjectionTime ${outlierDetection.baseEjectionTime}, maxEjectionPercent ${outlierDetection.maxEjectionPercent}); --no-outlier makes this an error`)
  } else if (Object.keys(given).length) {
    notes.push(`every backing service has outlier detection already: --consecutive-errors, --interval and --base-ejection-time are not used (change it with kubectl smh set outlier)`)
  }
  const fs: FailoverService = resource('FailoverService', name, namespace, {
    hostname,
    port,
    meshes: meshes.map(meshRef),
    backingServices: backing.map((s) => ({kubeService: clusterObjectRef(s)})),
  })
  resources.push(fs)
  return {resources, notes}
}

export async function addFailoverService(options: AddFailoverServiceOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  return author(world, planAddFailoverService(world, options), options)
}
