// Istio's own config compiler (test/oracle) judges what the translator (src/translate) really generates, on every
// golden case's inputs (test/golden/<case>/case.yaml: SMH resources + cluster snapshots), translated live here.
//  - every case, every cluster, every sidecar and gateway: Istio takes every object (no validation error, nothing
//    ignored, no route or aggregate child to a cluster it did not build, no push conflict);
//  - every federated cluster a client builds presents an SNI that the serving cluster's gateway answers with an
//    AUTO_PASSTHROUGH chain to local endpoints;
//  - the must-show cases of issue 4 (seed failover, locality strategy, the 75/25 shift across clusters).
import {describe, expect, it} from 'vitest'

import {goldenCases, runCase, snapshotObjects, yamlStream} from '../../support/golden.js'
import {type OracleResult, aggregateChildren, endpointAddresses, findCluster, findEndpoints, runOracle} from '../../oracle/oracle.js'

interface Case {
  name: string
  /** cluster → snapshot file */
  snapshots: Record<string, string>
  /** cluster → generated objects as a YAML stream */
  outputs: Record<string, string>
  /** cluster → pods of the snapshot */
  pods: Record<string, any[]>
}

const cases = goldenCases()
const caseNames = cases.map((c) => c.name)
const cache = new Map<string, Promise<Case>>()
function loadCase(name: string): Promise<Case> {
  if (!cache.has(name)) {
    cache.set(name, (async () => {
      const golden = cases.find((c) => c.name === name)!
      const outcome = await runCase(golden)
      expect(outcome.problems, `${name}: the translator refused the case's input`).toEqual([])
      const outputs = Object.fromEntries(Object.entries(outcome.result!.clusters).map(([c, objects]) => [c, yamlStream(objects)]))
      const pods: Record<string, any[]> = {}
      for (const [cluster, file] of Object.entries(golden.snapshots)) pods[cluster] = (await snapshotObjects(file)).filter((o) => o.kind === 'Pod')
      return {name, snapshots: golden.snapshots, outputs, pods}
    })())
  }
  return cache.get(name)!
}

const isSidecar = (pod: any) => pod.metadata.namespace !== 'istio-system' && (pod.spec?.containers ?? []).some((c: any) => c.name === 'istio-proxy')
const isGateway = (pod: any) => /gateway$/.test(pod.metadata.labels?.istio ?? '')
const podRef = (pod: any) => `${pod.metadata.namespace}/${pod.metadata.name}`
function podOf(c: Case, cluster: string, pred: (pod: any) => boolean): string {
  const pod = c.pods[cluster].find(pred)
  if (!pod) throw new Error(`${c.name}: no such pod in ${cluster}'s snapshot`)
  return podRef(pod)
}
const app = (name: string) => (pod: any) => pod.metadata.labels?.app === name && isSidecar(pod)

function oracle(c: Case, cluster: string, proxy: string, simulate?: string[]): Promise<OracleResult> {
  return runOracle({cluster, proxy, snapshotFile: c.snapshots[cluster], configYaml: c.outputs[cluster] ?? '', simulate})
}

/** `outbound|9080|version-v3|reviews.default.svc.kind3.global` → the serving cluster, kind3. */
const FEDERATED = /^outbound\|(\d+)\|[^|]*\|[^|]+\.svc\.([a-z0-9-]+)\.global$/

describe('xDS oracle on the translator output: Istio takes everything we generate', () => {
  it('has golden cases', () => expect(caseNames.length).toBeGreaterThan(0))

  for (const name of caseNames) {
    it(`${name}: every sidecar and gateway of every cluster, and every federated SNI is answered by the serving gateway`, async () => {
      const c = await loadCase(name)
      const federated: Record<string, {sni: string; from: string}[]> = {}
      for (const cluster of Object.keys(c.snapshots)) {
        for (const pod of c.pods[cluster].filter((p) => isSidecar(p) || isGateway(p))) {
          const r = await oracle(c, cluster, podRef(pod)) // rejects with Istio's messages if anything was refused or ignored
          for (const cl of r.clusters) {
            const m = FEDERATED.exec(cl.name)
            const sni = cl.transportSocket?.typedConfig?.sni
            if (m && sni && isSidecar(pod)) (federated[m[2]] ??= []).push({sni, from: `${cluster} ${podRef(pod)} ${cl.name}`})
          }
        }
      }
      for (const [serving, wants] of Object.entries(federated)) {
        if (!c.snapshots[serving]) continue
        const snis = [...new Set(wants.map((w) => w.sni))]
        const gw = podOf(c, serving, isGateway)
        const r = await oracle(c, serving, gw, snis.map((sni) => `mtls://${sni}:15443`))
        const answered: string[] = r.listeners.flatMap((l) => (l.filterChains ?? []).flatMap((fc: any) => fc.filterChainMatch?.serverNames ?? []))
        for (const sim of r.simulations ?? []) {
          const sni = new URL(sim.call).hostname
          const who = wants.filter((w) => w.sni === sni).map((w) => w.from).join('; ')
          const host = sni.slice(sni.lastIndexOf('_.') + 2)
          const near = answered.filter((n) => n.endsWith(host)).join(', ')
          expect(sim.error, `${serving}'s gateway has no chain for SNI ${sni} (presented by ${who}); it answers ${near} (Istio names chains outbound_.<port>_.<subset>_.<host>)`).toBeUndefined()
          expect(sim.cluster, `SNI ${sni} at ${serving}'s gateway`).toBe(sni)
          expect(endpointAddresses(findEndpoints(r, sni)).length, `${serving}'s gateway cluster ${sni} has no endpoints`).toBeGreaterThan(0)
        }
      }
    })
  }
})

describe('xDS oracle on the translator output: the must-show cases', () => {
  const FAILOVER = 'outbound|9080||reviews-failover.default.global'
  const LOCAL = 'outbound|9080||reviews.default.svc.cluster.local'
  const REMOTE = 'outbound|9080||reviews.default.svc.kind3.global'
  const SNI = 'outbound_.9080_._.reviews.default.svc.cluster.local'

  it('seed: kind2 productpage sees an aggregate of local reviews then kind3 reviews, outlier detection 100%, Istio mTLS to kind3 gateway:15443', async () => {
    const c = await loadCase('seed-failover')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), ['http://reviews:9080/'])
    const failover = findCluster(r, FAILOVER)
    expect(failover?.clusterType?.name).toBe('envoy.clusters.aggregate')
    expect(aggregateChildren(failover)).toEqual([LOCAL, REMOTE])
    for (const child of [LOCAL, REMOTE]) expect(findCluster(r, child)?.outlierDetection?.maxEjectionPercent, child).toBe(100)
    const tls = findCluster(r, REMOTE)?.transportSocket?.typedConfig
    expect(tls?.['@type']).toBe('type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext')
    expect(tls?.sni).toBe(SNI)
    expect(tls?.commonTlsContext?.tlsCertificateSdsSecretConfigs?.[0]?.name).toBe('default')
    expect(tls?.commonTlsContext?.alpnProtocols).toContain('istio')
    const kind3Gateway: any = (await snapshotObjects(c.snapshots.kind3)).find((o) => o.kind === 'Service' && o.metadata.name === 'istio-ingressgateway')
    expect(endpointAddresses(findEndpoints(r, REMOTE)).map((e) => e.address)).toEqual([`${kind3Gateway.status.loadBalancer.ingress[0].ip}:15443`])
    expect(endpointAddresses(findEndpoints(r, LOCAL)).length).toBeGreaterThan(0)
    // Istio's traffic simulation: productpage → reviews:9080 takes the route to the failover host.
    expect(r.simulations?.[0]).toMatchObject({virtualHost: 'reviews.default.svc.cluster.local:9080', cluster: FAILOVER, aggregateChildren: [LOCAL, REMOTE]})
    expect(r.simulations?.[0].error).toBeUndefined()
  })

  it("seed: kind3's gateway takes that SNI into an AUTO_PASSTHROUGH chain to kind3's reviews pods", async () => {
    const c = await loadCase('seed-failover')
    const r = await oracle(c, 'kind3', podOf(c, 'kind3', isGateway), [`mtls://${SNI}:15443`])
    expect(r.simulations?.[0]).toMatchObject({listener: '0.0.0.0_15443', cluster: SNI, serverNames: [SNI]})
    const chain = r.listeners.find((l) => l.name === '0.0.0.0_15443')?.filterChains?.find((fc: any) => fc.filterChainMatch?.serverNames?.includes(SNI))
    expect(chain?.transportSocket).toBeUndefined() // passthrough: the gateway does not terminate TLS
    const reviewsPods = c.pods.kind3.filter(app('reviews')).map((p) => `${p.status.podIP}:9080`).sort()
    expect(endpointAddresses(findEndpoints(r, SNI)).map((e) => e.address).sort()).toEqual(reviewsPods)
  })

  it('locality strategy: productpage → reviews:9080 takes the route to the failover host, whose endpoints come out local first (priority 0), kind3 second', async () => {
    const c = await loadCase('failover-locality')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), ['http://reviews:9080/'])
    expect(r.simulations?.[0]).toMatchObject({virtualHost: 'reviews.default.svc.cluster.local:9080', cluster: FAILOVER})
    expect(r.simulations?.[0].error).toBeUndefined()
    const cl = findCluster(r, FAILOVER)
    expect(cl?.outlierDetection?.maxEjectionPercent).toBe(100)
    const eps = endpointAddresses(cl?.type === 'EDS' ? findEndpoints(r, FAILOVER) : cl?.loadAssignment)
    expect(eps.map((e) => e.priority)).toEqual([0, 1])
    expect(eps[0].address).toBe('reviews.default.svc.cluster.local:9080')
    expect(eps[1].address).toMatch(/:15443$/)
    expect(cl?.transportSocket?.typedConfig?.sni).toBe(SNI)
  })

  it('a 75/25 shift across clusters with subsets: weighted clusters whose subset clusters exist, and kind3 answers the subset SNI', async () => {
    const c = await loadCase('traffic-shift-across-clusters')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), ['http://reviews:9080/'])
    const weighted = r.simulations?.[0].weightedClusters ?? []
    expect(weighted.map((w) => w.weight)).toEqual([75, 25])
    const [local, remote] = weighted.map((w) => w.name)
    expect(local).toMatch(/^outbound\|9080\|[^|]+\|reviews\.default\.svc\.cluster\.local$/)
    expect(remote).toMatch(/^outbound\|9080\|[^|]+\|reviews\.default\.svc\.kind3\.global$/)
    for (const name of [local, remote]) expect(findCluster(r, name), name).toBeDefined()
    const v1Pods = c.pods.kind2.filter((p) => app('reviews')(p) && p.metadata.labels.version === 'v1').map((p) => `${p.status.podIP}:9080`)
    expect(endpointAddresses(findEndpoints(r, local)).map((e) => e.address)).toEqual(v1Pods)
    expect(endpointAddresses(findEndpoints(r, remote)).length).toBe(1)
    const sni = findCluster(r, remote)?.transportSocket?.typedConfig?.sni
    const r3 = await oracle(c, 'kind3', podOf(c, 'kind3', isGateway), [`mtls://${sni}:15443`])
    const answered = r3.listeners.flatMap((l) => (l.filterChains ?? []).flatMap((fc: any) => fc.filterChainMatch?.serverNames ?? [])).filter((n: string) => n.includes('reviews'))
    expect(r3.simulations?.[0].error, `kind3's gateway has no chain for the SNI kind2 presents (${sni}); it answers ${answered.join(', ')}`).toBeUndefined()
    expect(r3.simulations?.[0].cluster).toBe(sni)
    const v3Pods = c.pods.kind3.filter((p) => app('reviews')(p) && p.metadata.labels.version === 'v3').map((p) => `${p.status.podIP}:9080`)
    expect(endpointAddresses(findEndpoints(r3, sni!)).map((e) => e.address)).toEqual(v3Pods)
  })
})

describe('xDS oracle: federation on demand routes exactly as permissive (issue 11)', () => {
  /** What a call compiles to on one proxy: the route taken, its weighted clusters, and each cluster's aggregate children. */
  async function compiled(name: string, calls: string[]) {
    const c = await loadCase(name)
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), calls)
    const vhosts = Object.fromEntries(r.routes.flatMap((rc) => (rc.virtualHosts ?? []).filter((vh: any) => !vh.name.includes('.global') && /reviews|details|ratings/.test(vh.name)).map((vh: any) => [`${rc.name} ${vh.name}`, vh.routes])))
    const sims = (r.simulations ?? []).map((s) => ({
      call: s.call, virtualHost: s.virtualHost, route: s.route, cluster: s.cluster, error: s.error,
      weighted: (s.weightedClusters ?? []).map((w) => ({...w, children: aggregateChildren(findCluster(r, w.name)) ?? null, built: Boolean(findCluster(r, w.name))})),
      children: s.cluster ? aggregateChildren(findCluster(r, s.cluster)) ?? null : null,
    }))
    return {r, vhosts, sims}
  }

  it('seed: productpage → reviews takes the same route to the same aggregate with the same children, with far fewer Envoy clusters', async () => {
    const calls = ['http://reviews:9080/', 'http://details:9080/', 'http://ratings:9080/']
    const permissive = await compiled('seed-failover', calls)
    const onDemand = await compiled('on-demand-seed', calls)
    expect(onDemand.sims).toEqual(permissive.sims)
    expect(onDemand.sims[0]).toMatchObject({cluster: 'outbound|9080||reviews-failover.default.global', children: ['outbound|9080||reviews.default.svc.cluster.local', 'outbound|9080||reviews.default.svc.kind3.global']})
    expect(onDemand.vhosts).toEqual(permissive.vhosts)
    const federated = (r: OracleResult) => r.clusters.map((cl) => cl.name).filter((n) => FEDERATED.test(n)).sort()
    expect(federated(onDemand.r)).toEqual(['outbound|9080||reviews.default.svc.kind3.global'])
    expect(federated(permissive.r).length).toBeGreaterThan(federated(onDemand.r).length)
    // Everything the routes reach is built, with the same TLS (SNI) and outlier detection as under permissive.
    const remote = 'outbound|9080||reviews.default.svc.kind3.global'
    expect(findCluster(onDemand.r, remote)?.transportSocket).toEqual(findCluster(permissive.r, remote)?.transportSocket)
    expect(findCluster(onDemand.r, remote)?.outlierDetection).toEqual(findCluster(permissive.r, remote)?.outlierDetection)
  })

  it('the 75/25 shift and the mirror: same routes, weights and clusters as permissive; ratings (sources in default only) reaches kind3', async () => {
    const calls = ['http://reviews:9080/', 'http://details:9080/']
    const permissive = await compiled('traffic-shift-across-clusters', calls)
    const onDemand = await compiled('on-demand-shift', calls)
    expect(onDemand.sims).toEqual(permissive.sims)
    expect(onDemand.sims[0].weighted.map((w) => [w.weight, w.built])).toEqual([[75, true], [25, true]])
    const reviews = (v: Record<string, unknown>) => Object.fromEntries(Object.entries(v).filter(([k]) => /reviews|details/.test(k)))
    expect(reviews(onDemand.vhosts)).toEqual(reviews(permissive.vhosts))
    const c = await loadCase('on-demand-shift')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), ['http://ratings:9080/'])
    expect(r.simulations?.[0]).toMatchObject({cluster: 'outbound|9080||ratings.default.svc.kind3.global'})
    expect(r.simulations?.[0].error).toBeUndefined()
  })
})

/** The first object, depth first, that satisfies pred. */
function findDeep(o: any, pred: (o: any) => boolean): any {
  if (o === null || typeof o !== 'object') return undefined
  if (!Array.isArray(o) && pred(o)) return o
  for (const v of Object.values(o)) {
    const found = findDeep(v, pred)
    if (found !== undefined) return found
  }
  return undefined
}

describe('xDS oracle on the translator output: what each rule does in Envoy', () => {
  const vhost = (r: OracleResult, name: string) => r.routes.find((rc) => rc.name === '9080')?.virtualHosts?.find((vh: any) => vh.name === name)

  it('route features: ordered routes with their timeouts, retries, faults and CORS, only on the selected source', async () => {
    const c = await loadCase('route-features')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('productpage')), ['http://ratings:9080/health'])
    const routes = vhost(r, 'ratings.default.svc.cluster.local:9080')?.routes ?? []
    expect(routes.map((rt: any) => rt.match.path ?? rt.match.prefix)).toEqual(['/health', '/ratings', '/'])
    expect(Object.keys(routes[0].typedPerFilterConfig ?? {})).toContain('envoy.filters.http.fault')
    expect(routes[1].match.headers.map((h: any) => h.name)).toEqual(expect.arrayContaining(['end-user', 'x-canary']))
    expect(routes[1].route).toMatchObject({timeout: '2s', retryPolicy: {numRetries: 3, perTryTimeout: '0.500s'}})
    expect(Object.keys(routes[1].typedPerFilterConfig ?? {})).toEqual(expect.arrayContaining(['envoy.filters.http.cors', 'envoy.filters.http.fault']))
    expect(routes[2].route.timeout).toBe('10s')
    expect(r.simulations?.[0]).toMatchObject({virtualHost: 'ratings.default.svc.cluster.local:9080', cluster: 'outbound|9080||ratings.default.svc.cluster.local'})
    // sourceSelector: productpage only. details' sidecar gets the other routes, not /ratings.
    const d = await oracle(c, 'kind2', podOf(c, 'kind2', app('details')))
    expect((vhost(d, 'ratings.default.svc.cluster.local:9080')?.routes ?? []).map((rt: any) => rt.match.path ?? rt.match.prefix)).toEqual(['/health', '/'])
  })

  it('access policies: the RBAC filter of reviews admits productpage of both clusters for GET /reviews/* on 9080, under the global deny', async () => {
    const c = await loadCase('access-policies')
    const r = await oracle(c, 'kind2', podOf(c, 'kind2', app('reviews')))
    const rbac = findDeep(r.listeners.find((l) => l.name === 'virtualInbound'), (o) => o['@type'] === 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC')
    const policies = rbac.rules.policies as Record<string, any>
    const allow = JSON.stringify(policies['ns[default]-policy[reviews]-rule[0]'])
    for (const p of ['spiffe://kind2/ns/default/sa/bookinfo-productpage', 'spiffe://kind3/ns/default/sa/bookinfo-productpage', '"prefix":"/reviews/"', '"exact":"GET"', '"destinationPort":9080']) expect(allow).toContain(p)
    expect(Object.keys(policies)).toContain('ns[istio-system]-policy[global-access-control]-rule[0]')
  })

  it('mTLS and defaults: kind3 clients get ISTIO_MUTUAL and the SMH outlier defaults (5, 10s, 30s, 100%)', async () => {
    const c = await loadCase('mtls-and-defaults')
    const r = await oracle(c, 'kind3', podOf(c, 'kind3', app('productpage')))
    const reviews = findCluster(r, 'outbound|9080||reviews.default.svc.cluster.local')
    expect(reviews?.outlierDetection).toMatchObject({consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100})
    expect(reviews?.transportSocket?.typedConfig?.commonTlsContext?.tlsCertificateSdsSecretConfigs?.[0]?.name).toBe('default')
  })
})
