// Istio's own config compiler (test/oracle) on the hand-written fixtures of test/oracle/fixtures: the objects DESIGN §5
// and notes/federation-failover.md prescribe, compiled by istiod into what each proxy would receive. This pins the
// oracle itself (and the design); translator-output.test.ts runs the same checks on what src/translate generates.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {OracleError, aggregateChildren, endpointAddresses, findCluster, findEndpoints, runOracle} from '../../oracle/oracle.js'

const fixtures = fileURLToPath(new URL('../../oracle/fixtures/', import.meta.url))
const f = (name: string) => join(fixtures, name)
const productpage2 = 'default/productpage-v1-6f9b8c7d5-kind211'
const gateway3 = 'istio-system/istio-ingressgateway-5c8d7b9f4-gw001'
const FAILOVER = 'outbound|9080||reviews-failover.default.global'
const LOCAL = 'outbound|9080||reviews.default.svc.cluster.local'
const REMOTE = 'outbound|9080||reviews.default.svc.kind3.global'
const SNI = 'outbound_.9080_._.reviews.default.svc.cluster.local'

describe('xDS oracle: hand-written seed fixtures', () => {
  it('kind2 productpage: the failover host is an aggregate of local reviews then kind3 reviews, both with outlier detection', async () => {
    const r = await runOracle({cluster: 'kind2', snapshotFile: f('kind2-snapshot.yaml'), configFiles: [f('seed-generated.yaml')], proxy: productpage2})
    expect(r.errors).toEqual([])
    expect(r.proxy).toMatchObject({type: 'sidecar', cluster: 'kind2', namespace: 'default', istioVersion: '1.30.3', labels: {app: 'productpage'}})
    const failover = findCluster(r, FAILOVER)
    expect(failover?.clusterType?.name).toBe('envoy.clusters.aggregate')
    expect(failover?.clusterType?.typedConfig?.['@type']).toBe('type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig')
    expect(aggregateChildren(failover)).toEqual([LOCAL, REMOTE])
    for (const child of [LOCAL, REMOTE]) {
      expect(findCluster(r, child)?.outlierDetection?.maxEjectionPercent, child).toBe(100)
    }
    const tls = findCluster(r, REMOTE)?.transportSocket
    expect(tls?.name).toBe('envoy.transport_sockets.tls')
    expect(tls?.typedConfig?.['@type']).toBe('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext')
    expect(tls?.typedConfig?.sni).toBe(SNI)
    // Istio mTLS: the workload certificate and root from SDS, Istio's ALPN.
    expect(tls?.typedConfig?.commonTlsContext?.tlsCertificateSdsSecretConfigs?.[0]?.name).toBe('default')
    expect(tls?.typedConfig?.commonTlsContext?.alpnProtocols).toContain('istio')
    expect(endpointAddresses(findEndpoints(r, REMOTE)).map((e) => e.address)).toEqual(['172.18.0.3:15443'])
    expect(endpointAddresses(findEndpoints(r, LOCAL)).map((e) => e.address).sort()).toEqual(['10.244.0.17:9080', '10.244.0.18:9080'])
  })

  it('simulation: productpage → reviews:9080 in kind2 takes the route to the failover host', async () => {
    const r = await runOracle({cluster: 'kind2', snapshotFile: f('kind2-snapshot.yaml'), configFiles: [f('seed-generated.yaml')], proxy: productpage2, simulate: ['http://reviews:9080/']})
    expect(r.simulations?.[0]).toMatchObject({listener: '0.0.0.0_9080', routeConfig: '9080', virtualHost: 'reviews.default.svc.cluster.local:9080', cluster: FAILOVER, aggregateChildren: [LOCAL, REMOTE]})
    expect(r.simulations?.[0].error).toBeUndefined()
  })

  it('locality strategy: the failover host keeps the same priority order without an EnvoyFilter', async () => {
    const r = await runOracle({cluster: 'kind2', snapshotFile: f('kind2-snapshot.yaml'), configFiles: [f('seed-locality-generated.yaml')], proxy: productpage2, simulate: ['http://reviews:9080/']})
    expect(r.errors).toEqual([])
    expect(r.simulations?.[0].cluster).toBe(FAILOVER)
    const c = findCluster(r, FAILOVER)
    expect(c?.type).toBe('STRICT_DNS')
    expect(c?.outlierDetection?.maxEjectionPercent).toBe(100)
    const eps = endpointAddresses(c?.loadAssignment)
    expect(eps.map((e) => [e.address, e.priority])).toEqual([['reviews.default.svc.cluster.local:9080', 0], ['172.18.0.3:15443', 1]])
  })

  it("kind3's gateway: an Istio mTLS connection with that SNI takes an AUTO_PASSTHROUGH chain to kind3's reviews", async () => {
    const r = await runOracle({cluster: 'kind3', snapshotFile: f('kind3-snapshot.yaml'), configFiles: [f('seed-generated.yaml')], proxy: gateway3, simulate: [`mtls://${SNI}:15443`]})
    expect(r.errors).toEqual([])
    expect(r.proxy.type).toBe('router')
    const sim = r.simulations![0]
    expect(sim.error).toBeUndefined()
    expect(sim).toMatchObject({listener: '0.0.0.0_15443', cluster: SNI, serverNames: [SNI]})
    // AUTO_PASSTHROUGH: no TLS termination at the gateway, an SNI-named cluster whose endpoints are the local pods.
    const listener = r.listeners.find((l) => l.name === '0.0.0.0_15443')
    const chain = listener?.filterChains?.find((fc: any) => fc.filterChainMatch?.serverNames?.includes(SNI))
    expect(chain?.transportSocket).toBeUndefined()
    expect(endpointAddresses(findEndpoints(r, SNI)).map((e) => e.address).sort()).toEqual(['10.245.0.17:9080', '10.245.0.18:9080', '10.245.0.19:9080'])
  })

  it('weighted shift 75/25 across clusters with subsets: weighted clusters whose subset clusters exist, on both sides', async () => {
    const r2 = await runOracle({cluster: 'kind2', snapshotFile: f('kind2-snapshot.yaml'), configFiles: [f('shift-generated.yaml')], proxy: productpage2, simulate: ['http://reviews:9080/']})
    expect(r2.errors).toEqual([])
    const v1 = 'outbound|9080|v1|reviews.default.svc.cluster.local'
    const v3 = 'outbound|9080|v3|reviews.default.svc.kind3.global'
    expect(r2.simulations?.[0].weightedClusters).toEqual([{name: v1, weight: 75}, {name: v3, weight: 25}])
    expect(findCluster(r2, v1)).toBeDefined()
    expect(findCluster(r2, v3)?.transportSocket?.typedConfig?.sni).toBe('outbound_.9080_.v3_.reviews.default.svc.cluster.local')
    expect(endpointAddresses(findEndpoints(r2, v1)).map((e) => e.address)).toEqual(['10.244.0.17:9080'])
    expect(endpointAddresses(findEndpoints(r2, v3)).map((e) => e.address)).toEqual(['172.18.0.3:15443'])
    const sni3 = 'outbound_.9080_.v3_.reviews.default.svc.cluster.local'
    const r3 = await runOracle({cluster: 'kind3', snapshotFile: f('kind3-snapshot.yaml'), configFiles: [f('shift-generated.yaml')], proxy: gateway3, simulate: [`mtls://${sni3}:15443`]})
    expect(r3.simulations?.[0]).toMatchObject({cluster: sni3, serverNames: [sni3]})
    expect(endpointAddresses(findEndpoints(r3, sni3)).map((e) => e.address)).toEqual(['10.245.0.19:9080'])
  })
})

describe('xDS oracle: what Istio rejects or ignores fails, with its own message', () => {
  const base = {cluster: 'kind2', snapshotFile: f('kind2-snapshot.yaml'), proxy: productpage2}
  const dr = (trafficPolicy: string) => `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy: ${trafficPolicy}
`

  it("a value Istio's validation rejects", async () => {
    const run = runOracle({...base, configYaml: dr('{outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 200}}')})
    await expect(run).rejects.toThrow(OracleError)
    await expect(run).rejects.toThrow(/DestinationRule\/default\/reviews: percentage 200 is not in range 0..100/)
  })

  it('a field Istio does not know (it would drop it silently)', async () => {
    const r = await runOracle({...base, configYaml: dr('{outlierDetection: {maxEjectPercent: 100}}'), allowErrors: true})
    expect(r.errors.join('\n')).toMatch(/DestinationRule\/default\/reviews: cannot parse spec: .*unknown field "maxEjectPercent"/)
    expect(r.inputs.configs).not.toContain('DestinationRule/default/reviews')
  })

  it('an EnvoyFilter value with a field Envoy does not have (Istio only warns, then drops it)', async () => {
    const yaml = readFileSync(f('seed-generated.yaml'), 'utf8').replace('lb_policy: CLUSTER_PROVIDED', 'lb_polcy: CLUSTER_PROVIDED')
    const run = runOracle({...base, configYaml: yaml})
    await expect(run).rejects.toThrow('EnvoyFilter/default/reviews-failover: Envoy filter: unknown field "lb_polcy" in envoy.config.cluster.v3.Cluster')
  })

  it('an EnvoyFilter aggregate cluster typed with the v2alpha ClusterConfig Istio cannot resolve', async () => {
    const yaml = readFileSync(f('seed-generated.yaml'), 'utf8').replace('envoy.extensions.clusters.aggregate.v3.ClusterConfig', 'envoy.config.cluster.aggregate.v2alpha.ClusterConfig')
    const r = await runOracle({...base, configYaml: yaml, allowErrors: true})
    expect(r.errors).toEqual(['EnvoyFilter/default/reviews-failover: referenced type unknown: Envoy filter: could not resolve Any message type: type.googleapis.com/envoy.config.cluster.aggregate.v2alpha.ClusterConfig'])
    expect(findCluster(r, FAILOVER)?.clusterType).toBeUndefined() // refused: the plain EDS cluster stays
  })

  it('a route to a subset no DestinationRule defines (Envoy would answer 503 NC)', async () => {
    const vs = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.default.svc.cluster.local, subset: v9}
`
    const r = await runOracle({...base, configYaml: vs, allowErrors: true})
    expect(r.errors).toContainEqual(expect.stringMatching(/sends to cluster "outbound\|9080\|v9\|reviews.default.svc.cluster.local", which istiod did not generate/))
  })

  it('an aggregate cluster whose child does not exist', async () => {
    const yaml = readFileSync(f('seed-generated.yaml'), 'utf8').replace('- "outbound|9080||reviews.default.svc.kind3.global"', '- "outbound|9080||reviews.default.svc.kind4.global"')
    const r = await runOracle({...base, configYaml: yaml, allowErrors: true})
    expect(r.errors).toContainEqual(`aggregate cluster "${FAILOVER}" lists child "outbound|9080||reviews.default.svc.kind4.global", which istiod did not generate`)
  })

  it('two VirtualServices for one host (a sidecar applies only one) and duplicate subsets (istiod drops one)', async () => {
    const vs = (name: string, host: string) => `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [${host}]
  http:
  - route:
    - destination: {host: reviews.default.svc.cluster.local}
`
    const dr = (name: string, version: string) => `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  subsets: [{name: v1, labels: {version: ${version}}}]
`
    const r = await runOracle({...base, configYaml: [vs('reviews', 'reviews.default.svc.cluster.local'), vs('reviews-again', 'reviews'), dr('reviews', 'v1'), dr('reviews-again', 'v2')].join('---\n'), allowErrors: true})
    expect(r.errors).toContainEqual(expect.stringMatching(/^istioctl analyze: Error \[IST0109\] \(VirtualService default\/reviews-again\) The VirtualServices default\/reviews,default\/reviews-again associated with mesh gateway define the same host/))
    expect(r.errors).toContainEqual('istiod push status pilot_destrule_subsets: reviews.default.svc.cluster.local: Duplicate subset v1 found while merging destination rules for reviews.default.svc.cluster.local')
  })

  it('objects for another cluster are ignored; unknown Istio kinds are reported', async () => {
    const r = await runOracle({...base, configFiles: [f('seed-generated.yaml')]})
    expect(r.inputs.configs).not.toContain('Gateway/istio-system/smh-cross-cluster')
    const bad = await runOracle({...base, configYaml: 'apiVersion: networking.istio.io/v1beta1\nkind: VirtualRoute\nmetadata: {name: x, namespace: default}\nspec: {}\n', allowErrors: true})
    expect(bad.errors).toEqual([expect.stringMatching(/VirtualRoute\/default\/x: istiod does not know networking.istio.io\/v1beta1, Kind=VirtualRoute/)])
  })
})
