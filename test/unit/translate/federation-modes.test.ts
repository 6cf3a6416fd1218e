// Federation modes of a VirtualMesh (issue 11): permissive (SMH 0.9, also `{}` and no federation at all), onDemand
// (only what routes use, only where, exportTo by source namespaces), none, and Gloo Mesh 1.1 style selectors.
import {describe, expect, it} from 'vitest'

import type {SmhResource, VirtualMeshSpec} from '../../../src/api/types.js'
import {virtualMeshSpec} from '../../../src/api/schema.js'
import {validateAgainstSchema} from '../../../src/api/validate.js'
import type {ClusterDiscovery} from '../../../src/discovery/types.js'
import {estimateFederation, estimateVirtualMesh} from '../../../src/translate/estimate.js'
import {type IstioObject, translate} from '../../../src/translate/index.js'

const API = 'networking.smh.solo.io/v1alpha2'
const CLUSTERS = ['a', 'b', 'c']

function discovered(services = 4): ClusterDiscovery[] {
  return CLUSTERS.map((cluster, i) => ({
    cluster,
    meshes: [{
      name: `mesh-${cluster}`, cluster, installationNamespace: 'istio-system', istiodName: 'istiod', version: '1.30.3', revision: 'default',
      trustDomain: cluster, istiodServiceAccount: 'istiod', podLabels: {app: 'istiod'},
      gateways: [{serviceName: 'istio-eastwestgateway', namespace: 'istio-system', workloadLabels: {istio: 'eastwestgateway'}, externalAddress: `172.18.0.${i + 2}`, externalAddressIsHostname: false, externalTlsPort: 15443, tlsContainerPort: 15443, hasPassthroughServer: false}],
    }],
    workloads: [],
    services: Array.from({length: services}, (_, s) => ({
      name: `svc-${s}-default-${cluster}`, cluster, namespace: 'default', serviceName: `svc-${s}`, labels: {app: `svc-${s}`, tier: s % 2 ? 'odd' : 'even'}, selector: {app: `svc-${s}`},
      ports: [{name: 'http', port: 8080, protocol: 'TCP'}], subsets: {version: ['v1', 'v2']}, mesh: `mesh-${cluster}`, workloads: [],
    })),
  })) as unknown as ClusterDiscovery[]
}

const vm = (federation?: VirtualMeshSpec['federation']): SmhResource => ({apiVersion: API, kind: 'VirtualMesh', metadata: {name: 'vm', namespace: 'service-mesh-hub'}, spec: {meshes: CLUSTERS.map((c) => ({name: `mesh-${c}`})), ...(federation === undefined ? {} : {federation})}})
const ref = (s: number, cluster: string) => ({name: `svc-${s}`, namespace: 'default', clusterName: cluster})
const tp = (name: string, spec: Record<string, unknown>): SmhResource => ({apiVersion: API, kind: 'TrafficPolicy', metadata: {name, namespace: 'service-mesh-hub'}, spec} as SmhResource)
const outlier = (...services: ReturnType<typeof ref>[]) => tp(`outlier-${services.map((s) => `${s.name}-${s.clusterName}`).join('-')}`, {destinationSelector: [{kubeServiceRefs: {services}}], outlierDetection: {}})
const shift = (name: string, from: ReturnType<typeof ref>, to: ReturnType<typeof ref>, extra: Record<string, unknown> = {}) =>
  tp(name, {destinationSelector: [{kubeServiceRefs: {services: [from]}}], trafficShift: {destinations: [{kubeService: to}]}, ...extra})
const failover = (name: string, mesh: string, backing: ReturnType<typeof ref>[], annotations?: Record<string, string>): SmhResource =>
  ({apiVersion: API, kind: 'FailoverService', metadata: {name, namespace: 'service-mesh-hub', ...(annotations ? {annotations} : {})}, spec: {hostname: `${name}.default.global`, port: {number: 8080, protocol: 'http'}, meshes: [{name: mesh}], backingServices: backing.map((kubeService) => ({kubeService}))}})

function run(resources: SmhResource[]) {
  const result = translate({resources, discovered: discovered()})
  return {result, statuses: result.statuses, clusters: result.clusters}
}
/** Federated hosts per cluster: `cluster: host[exportTo]`. */
function federated(clusters: Record<string, IstioObject[]>): string[] {
  return Object.entries(clusters).flatMap(([cluster, objects]) => objects.filter((o) => o.kind === 'ServiceEntry' && o.metadata.name.endsWith('.global') && /\.svc\./.test(o.metadata.name)).map((o) => {
    const exportTo = (o.spec as {exportTo?: string[]}).exportTo
    return `${cluster}: ${o.metadata.name}${exportTo ? ` [${exportTo.join(',')}]` : ''}`
  }))
}
const gateways = (clusters: Record<string, IstioObject[]>) => Object.entries(clusters).flatMap(([cluster, objects]) => objects.filter((o) => o.kind === 'Gateway').map(() => cluster))

describe('permissive: SMH 0.9 meaning, unchanged', () => {
  it('no federation, {} and permissive: {} give the same bytes: every service into every other cluster, a Gateway on each', () => {
    const policies = [outlier(ref(0, 'a')), shift('s', ref(1, 'a'), ref(1, 'b'))]
    const outputs = [undefined, {}, {permissive: {}}].map((f) => JSON.stringify(run([vm(f as never), ...policies]).clusters))
    expect(outputs[1]).toBe(outputs[0])
    expect(outputs[2]).toBe(outputs[0])
    const {clusters} = run([vm({permissive: {}})])
    expect(federated(clusters)).toHaveLength(3 * 2 * 4)
    expect(gateways(clusters)).toEqual(['a', 'b', 'c'])
  })
})

describe('onDemand', () => {
  it('nothing routes across clusters: no federated object and no Gateway anywhere', () => {
    const {clusters, statuses} = run([vm({onDemand: {}}), outlier(ref(0, 'a'))])
    expect(federated(clusters)).toEqual([])
    expect(gateways(clusters)).toEqual([])
    expect(statuses.every((s) => s.state === 'ACCEPTED')).toBe(true)
  })

  it("a FailoverService's remote backing service goes into its mesh's cluster only, a Gateway on the serving cluster only", () => {
    const backing = [ref(0, 'a'), ref(0, 'b')]
    const {clusters, statuses} = run([vm({onDemand: {}}), outlier(...backing), failover('fs', 'mesh-a', backing)])
    expect(statuses.filter((s) => s.state !== 'ACCEPTED')).toEqual([])
    expect(federated(clusters)).toEqual(['a: svc-0.default.svc.b.global'])
    expect(gateways(clusters)).toEqual(['b'])
  })

  it('the locality strategy reaches the remote gateway itself: nothing federated for it', () => {
    const backing = [ref(0, 'a'), ref(0, 'b')]
    const {clusters} = run([vm({onDemand: {}}), outlier(...backing), failover('fs', 'mesh-a', backing, {'smh.solo.io/failover-strategy': 'locality'})])
    expect(federated(clusters)).toEqual([])
  })

  it('a traffic-shift destination goes into the cluster of the selected service only; a mirror destination too', () => {
    const {clusters} = run([vm({onDemand: {}}), shift('s', ref(1, 'c'), ref(2, 'b')), tp('m', {destinationSelector: [{kubeServiceRefs: {services: [ref(3, 'a')]}}], mirror: {kubeService: ref(3, 'c'), percentage: 5}})])
    expect(federated(clusters)).toEqual(['a: svc-3.default.svc.c.global', 'c: svc-2.default.svc.b.global'])
    expect(gateways(clusters).sort()).toEqual(['b', 'c'])
  })

  it('exportTo: the namespaces of the sourceSelector when every entry names some; all namespaces as soon as one user is unscoped', () => {
    const scoped = shift('s1', ref(1, 'a'), ref(1, 'b'), {sourceSelector: [{namespaces: ['shop', 'web']}, {namespaces: ['api'], labels: {app: 'x'}}]})
    expect(federated(run([vm({onDemand: {}}), scoped]).clusters)).toEqual(['a: svc-1.default.svc.b.global [api,shop,web]'])
    const dr = run([vm({onDemand: {}}), scoped]).clusters.a.find((o) => o.kind === 'DestinationRule' && o.metadata.name === 'svc-1.default.svc.b.global')
    expect((dr?.spec as {exportTo?: string[]}).exportTo).toEqual(['api', 'shop', 'web'])
    const unscoped = shift('s2', ref(2, 'a'), ref(1, 'b'), {sourceSelector: [{namespaces: ['ops']}, {labels: {app: 'y'}}]})
    expect(federated(run([vm({onDemand: {}}), scoped, unscoped]).clusters)).toEqual(['a: svc-1.default.svc.b.global'])
    // Source entries for other clusters do not count.
    const elsewhere = shift('s3', ref(1, 'a'), ref(1, 'b'), {sourceSelector: [{namespaces: ['shop']}, {clusters: ['c']}]})
    expect(federated(run([vm({onDemand: {}}), elsewhere]).clusters)).toEqual(['a: svc-1.default.svc.b.global [shop]'])
  })

  it('the federated DestinationRule carries the subsets and outlier detection routes need, as under permissive', () => {
    const resources = (mode: VirtualMeshSpec['federation']) => [vm(mode), outlier(ref(2, 'b')), shift('s', ref(1, 'a'), {...ref(2, 'b'), subset: {version: 'v2'}} as never)]
    const pick = (clusters: Record<string, IstioObject[]>) => clusters.a.filter((o) => o.metadata.name === 'svc-2.default.svc.b.global')
    expect(pick(run(resources({onDemand: {}})).clusters)).toEqual(pick(run(resources({permissive: {}})).clusters))
  })

  it('a rejected policy (conflict, INVALID target) federates nothing', () => {
    const {clusters, statuses} = run([vm({onDemand: {}}), shift('s', ref(1, 'a'), {...ref(2, 'b'), subset: {version: 'v9'}} as never)])
    expect(statuses.find((s) => s.name === 's')?.state).toBe('INVALID')
    expect(federated(clusters)).toEqual([])
  })

  it('deterministic whatever the order of resources', () => {
    const resources = [vm({onDemand: {}}), shift('s', ref(1, 'c'), ref(2, 'b')), shift('t', ref(1, 'a'), ref(2, 'b'), {sourceSelector: [{namespaces: ['x']}]}), outlier(ref(0, 'a'), ref(0, 'c')), failover('fs', 'mesh-a', [ref(0, 'a'), ref(0, 'c')])]
    expect(JSON.stringify(run([...resources].reverse()).clusters)).toBe(JSON.stringify(run(resources).clusters))
  })
})

describe('none', () => {
  it('federates nothing; a cross-cluster shift and a FailoverService with a remote backing service are INVALID naming the mode', () => {
    const backing = [ref(0, 'a'), ref(0, 'b')]
    const {clusters, statuses} = run([vm({none: {}}), outlier(...backing), failover('fs', 'mesh-a', backing), shift('s', ref(1, 'a'), ref(1, 'b'))])
    expect(federated(clusters)).toEqual([])
    expect(gateways(clusters)).toEqual([])
    const errors = (name: string) => statuses.find((s) => s.name === name)!.errors.join('\n')
    expect(errors('fs')).toContain('has federation none (set spec.federation to onDemand: {} or permissive: {})')
    expect(errors('s')).toContain('has federation none')
  })
})

describe('selectors (Gloo Mesh 1.1)', () => {
  it('the selected services into the listed meshes (every other member without meshes), plus what routes need', () => {
    const {clusters, statuses} = run([
      vm({selectors: [
        {trafficTargetSelectors: [{kubeServiceMatcher: {labels: {tier: 'odd'}, clusters: ['b']}}], meshes: [{name: 'mesh-c'}]},
        {trafficTargetSelectors: [{kubeServiceRefs: {services: [ref(0, 'a')]}}]},
      ]}),
      shift('s', ref(2, 'c'), ref(2, 'a')),
    ])
    expect(statuses.every((s) => s.state === 'ACCEPTED')).toBe(true)
    expect(federated(clusters).sort()).toEqual(['b: svc-0.default.svc.a.global', 'c: svc-0.default.svc.a.global', 'c: svc-1.default.svc.b.global', 'c: svc-2.default.svc.a.global', 'c: svc-3.default.svc.b.global'])
  })

  it('a mesh that is not a member is INVALID naming the members; a matcher that matches nothing is a warning', () => {
    const {statuses} = run([vm({selectors: [{trafficTargetSelectors: [{kubeServiceMatcher: {labels: {app: 'nope'}}}], meshes: [{name: 'mesh-z'}]}]})])
    const status = statuses.find((s) => s.kind === 'VirtualMesh')!
    expect(status.state).toBe('INVALID')
    expect(status.errors).toEqual(['spec.federation.selectors[0].meshes[0]: mesh mesh-z is not a member of this VirtualMesh (members: mesh-a, mesh-b, mesh-c)'])
    expect(status.warnings?.[0]).toContain('spec.federation.selectors[0].trafficTargetSelectors[0]: kubeServiceMatcher {labels: {app: nope}} matches no service')
  })
})

describe('schema', () => {
  it('one mode only; unknown keys rejected', () => {
    const problems = (federation: unknown) => validateAgainstSchema({...(vm().spec as object), federation}, virtualMeshSpec, 'spec').map((p) => `${p.path}: ${p.message}`).join('\n')
    expect(problems({onDemand: {}})).toBe('')
    expect(problems({selectors: [{meshes: [{name: 'mesh-a'}]}]})).toBe('')
    expect(problems({onDemand: {}, permissive: {}})).toMatch(/onDemand|permissive/)
    expect(problems({onDemnd: {}})).toContain('onDemnd')
  })
})

describe('estimate', () => {
  it('objects and Envoy clusters per sidecar: permissive grows with the fleet, onDemand with what routes use', () => {
    const resources = [shift('s', ref(1, 'a'), ref(2, 'b'))]
    const permissive = estimateVirtualMesh(resources, discovered(), vm({permissive: {}}) as never)
    const onDemand = estimateVirtualMesh(resources, discovered(), vm({onDemand: {}}) as never)
    expect(onDemand.mode).toBe('onDemand')
    const a = (e: typeof permissive) => e.clusters.find((c) => c.cluster === 'a')!
    // a: 4 local services, 1 Envoy cluster each; permissive adds 8 remote services (2 objects each) + a Gateway.
    expect(a(permissive)).toMatchObject({federatedServices: 8, federationObjects: 17, envoyClustersPerSidecar: 4 + 8, federatedEnvoyClusters: 8})
    expect(a(onDemand)).toMatchObject({federatedServices: 1, federationObjects: 2, envoyClustersPerSidecar: 4 + 1, federatedEnvoyClusters: 1})
    expect(a(onDemand).objects).toBe(3) // + the VirtualService
    expect(estimateFederation(translate({resources: [vm({none: {}})], discovered: discovered()})).map((c) => c.federationObjects)).toEqual([0, 0, 0])
  })
})

describe('fleet size', () => {
  it('permissive federation of 280,000 objects does not overflow the call stack (no push(...) of a whole list)', {timeout: 120_000}, () => {
    const big = discovered(70_000).slice(0, 2)
    const result = translate({resources: [{...vm({permissive: {}}), spec: {meshes: [{name: 'mesh-a'}, {name: 'mesh-b'}]}} as SmhResource], discovered: big, validate: false})
    expect(result.clusters.a.length + result.clusters.b.length).toBe(2 * 2 * 70_000 + 2)
  })
})
