/**
 * What a VirtualMesh's federation costs, from a translation (pure): per cluster, the objects we generate (and how
 * many of them federation makes), and the outbound Envoy clusters a sidecar there gets, from Istio's rule of one
 * Envoy cluster per service port plus one per port and DestinationRule subset. It counts every Service of the
 * cluster's meshes and every ServiceEntry we generate as visible to every sidecar (an upper bound where exportTo
 * scopes them); Istio's xDS generator (test/oracle) gives the exact figure for one proxy.
 */
import type {FederationMode, SmhResource, VirtualMesh} from '../api/types.js'
import {federationMode, resourceId} from '../api/types.js'
import type {ClusterDiscovery} from '../discovery/types.js'
import {type TranslateResult, translate} from './index.js'
import type {IstioObject} from './istio.js'

export interface ClusterEstimate {
  cluster: string
  /** Every object we generate there. */
  objects: number
  /** Of which federation's (federated ServiceEntries and DestinationRules, the passthrough Gateway). */
  federationObjects: number
  /** Remote services federated into the cluster. */
  federatedServices: number
  /** Outbound Envoy clusters per sidecar: the cluster's own services, plus what we generate. */
  envoyClustersPerSidecar: number
  /** Of which for federated services. */
  federatedEnvoyClusters: number
}

const GLOBAL_HOST = /\.svc\.[a-z0-9-]+\.global$/

const isFederation = (o: IstioObject) =>
  ((o.kind === 'ServiceEntry' || o.kind === 'DestinationRule') && GLOBAL_HOST.test(o.metadata.name)) ||
  (o.kind === 'Gateway' && o.metadata.annotations['smh.solo.io/sources'].split(',').some((s) => s.startsWith('VirtualMesh/')))

export function estimateFederation(result: Pick<TranslateResult, 'clusters' | 'discovery'>): ClusterEstimate[] {
  return Object.keys(result.clusters).sort().map((cluster) => {
    const objects = result.clusters[cluster]
    // host → subsets named by our DestinationRules there (an Envoy cluster each, per port)
    const subsets = new Map<string, number>()
    for (const o of objects) {
      if (o.kind !== 'DestinationRule') continue
      const spec = o.spec as {host: string; subsets?: unknown[]}
      subsets.set(spec.host, Math.max(subsets.get(spec.host) ?? 0, spec.subsets?.length ?? 0))
    }
    const discovery = result.discovery.find((d) => d.cluster === cluster)
    let local = 0
    for (const service of discovery?.services ?? []) {
      const ports = service.ports.filter((p) => p.protocol !== 'UDP').length
      const prefix = `${service.serviceName}.${service.namespace}.svc.`
      let named = 0
      for (const [host, count] of subsets) if (host.startsWith(prefix) && !host.endsWith('.global')) named = count
      local += ports * (1 + named)
    }
    let generated = 0
    let federatedEnvoy = 0
    let federatedServices = 0
    for (const o of objects) {
      if (o.kind !== 'ServiceEntry') continue
      const spec = o.spec as {hosts: string[]; ports?: unknown[]}
      const count = (spec.ports?.length ?? 0) * (1 + (subsets.get(spec.hosts[0]) ?? 0))
      generated += count
      if (GLOBAL_HOST.test(spec.hosts[0])) {
        federatedEnvoy += count
        federatedServices++
      }
    }
    return {cluster, objects: objects.length, federationObjects: objects.filter(isFederation).length, federatedServices, envoyClustersPerSidecar: local + generated, federatedEnvoyClusters: federatedEnvoy}
  })
}

/** The spec.federation that selects a mode (what `create virtualmesh --federation` writes). */
export function federationSpec(mode: Exclude<FederationMode, 'selectors'>): VirtualMesh['spec']['federation'] {
  return {[mode]: {}}
}

/**
 * The estimate for `vm` as it would be with everything else stored unchanged: translates the stored resources with
 * `vm` added (or replacing the stored one of that id), without schema checks of the output.
 */
export function estimateVirtualMesh(resources: SmhResource[], discovery: ClusterDiscovery[], vm: VirtualMesh): {mode: FederationMode; clusters: ClusterEstimate[]; meshClusters: string[]} {
  const id = resourceId(vm)
  const result = translate({resources: [...resources.filter((r) => resourceId(r) !== id), vm], discovered: discovery, validate: false})
  const meshes = new Set(vm.spec.meshes.map((m) => m.name))
  const meshClusters = discovery.filter((d) => d.meshes.some((m) => meshes.has(m.name))).map((d) => d.cluster).sort()
  return {mode: federationMode(vm.spec), clusters: estimateFederation(result).filter((c) => meshClusters.includes(c.cluster)), meshClusters}
}
