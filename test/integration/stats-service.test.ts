/**
 * The stats service on real API servers, without the data plane (no root, no lock; own clusters): what it reads with
 * the registrations' stored tokens (pods, Services, the `istio` mesh config's trust domain), which pods it takes
 * for proxies, that the registration may GET pods/proxy, and the seam where samples come from (`read`, the place
 * `--prometheus-url` plugs in). No proxy is dialled here: the seed's pod addresses are served by nothing without
 * the data plane, and packets to them must not leave the machine.
 */
import {readFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {SmhError} from '../../src/errors.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {readRegisteredClusters} from '../../src/kube/registry.js'
import {isStatsMetric, parseExposition} from '../../src/observe/stats.js'
import {type ProxyPod, openStats, readStats} from '../../src/services/stats.js'
import {runCli} from '../support/cli.js'
import {type SeededClusters, startSeededClusters} from '../support/clusters.js'

let env: SeededClusters
let mgmt: ClusterClient
const fixture = (name: string) => readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), 'utf8')

beforeAll(async () => {
  env = await startSeededClusters({audit: false})
  const smh = (args: string[]) => runCli([...args, '--kubeconfig', env.kubeconfig])
  expect((await smh(['install'])).code).toBe(0)
  for (const cluster of ['kind2', 'kind3']) {
    const registered = await smh(['register', 'cluster', cluster, '--remote-context', cluster])
    expect(registered.code, registered.stderr).toBe(0)
  }
  mgmt = ClusterClient.forContext(loadKubeconfig({kubeconfig: env.kubeconfig}), 'kind1')
}, 180_000)
afterAll(async () => {
  await env?.stop()
}, 60_000)

describe('the stats service on live API servers (stored tokens, no proxy dialled)', () => {
  it("takes every pod with an istio-proxy container (sidecars and gateways, not istiod) and reads samples where it is told to", async () => {
    const asked: ProxyPod[] = []
    const reading = await readStats({
      mgmt,
      // The seam --prometheus-url uses: samples for the pods, from wherever. Here: the seed's table for kind2's productpage.
      read: async (pods) => {
        asked.push(...pods)
        const productpage = pods.find((p) => p.cluster === 'kind2' && p.pod.startsWith('productpage-v1-'))!
        return [{cluster: 'kind2', namespace: 'default', pod: productpage.pod, samples: parseExposition(fixture('istio-kind2-productpage-v1.prom'), {keep: isStatsMetric})}]
      },
    })
    const names = asked.map((p) => `${p.cluster}/${p.namespace}/${p.pod.replace(/-[a-z]+-[a-z]+$/, '')}`).sort()
    expect(names).toEqual([
      'kind2/default/details-v1', 'kind2/default/productpage-v1', 'kind2/default/ratings-v1', 'kind2/default/reviews-v1', 'kind2/default/reviews-v2',
      'kind2/istio-system/istio-ingressgateway',
      'kind3/default/details-v1', 'kind3/default/productpage-v1', 'kind3/default/ratings-v1', 'kind3/default/reviews-v1', 'kind3/default/reviews-v2', 'kind3/default/reviews-v3',
      'kind3/istio-system/istio-ingressgateway',
    ])
    expect(reading.proxies).toBe(13)
    expect(reading.read).toBe(1)
    expect(reading.unreadable).toEqual([])
    // Trust domains from each cluster's mesh config (kind2, kind3) turn the Istio cluster names into registered clusters.
    expect(reading.rows.map((r) => `${r.requests} ${r.code} ${r.targetPrincipal} ${r.targetVersion} ${r.targetCluster}`)).toEqual([
      '5987 200 spiffe://kind2/ns/default/sa/bookinfo-reviews v1 kind2', '14 503 spiffe://kind2/ns/default/sa/bookinfo-reviews v1 kind2',
      '5943 200 spiffe://kind2/ns/default/sa/bookinfo-reviews v2 kind2', '3 503 spiffe://kind2/ns/default/sa/bookinfo-reviews v2 kind2',
      '1044 200 spiffe://kind3/ns/default/sa/bookinfo-reviews v1 kind3', '606 200 spiffe://kind3/ns/default/sa/bookinfo-reviews v2 kind3',
      '1527 200 spiffe://kind3/ns/default/sa/bookinfo-reviews v3 kind3',
    ])
    // The registry (1 list + 1 Secret per cluster) + per cluster: pods, services, the istio ConfigMap.
    expect(reading.requests).toBe(3 + 2 * 3)
  })

  it('a second reading of a session carries deltas over its interval', async () => {
    let count = 5987
    const session = await openStats({
      mgmt,
      read: async (pods) => {
        const productpage = pods.find((p) => p.cluster === 'kind2' && p.pod.startsWith('productpage-v1-'))!
        const text = fixture('istio-kind2-productpage-v1.prom').replace(/} 5987$/m, `} ${count}`)
        return {samples: [{cluster: 'kind2', namespace: 'default', pod: productpage.pod, samples: parseExposition(text, {keep: isStatsMetric})}], requests: 1}
      },
    })
    const first = await session.read()
    expect(first.rows[0].delta).toBeUndefined()
    count += 40
    const second = await session.read()
    expect(second.intervalSeconds).toBeGreaterThan(0)
    expect(second.rows[0]).toMatchObject({requests: 6027, delta: 40})
    expect(second.rows.slice(1).every((r) => r.delta === 0)).toBe(true)
  })

  it('the registration may GET pods/proxy (and nothing more on pods)', async () => {
    const registry = await readRegisteredClusters(mgmt)
    for (const cluster of registry.clusters) {
      const review = (verb: string, subresource?: string) => cluster.client.objects.create({
        apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
        spec: {resourceAttributes: {verb, resource: 'pods', ...(subresource ? {subresource} : {}), namespace: 'default'}},
      } as never) as Promise<{status?: {allowed?: boolean}}>
      expect((await review('get', 'proxy')).status?.allowed, cluster.name).toBe(true)
      expect((await review('create', 'proxy')).status?.allowed, cluster.name).toBe(false)
      expect((await review('create', 'exec')).status?.allowed, cluster.name).toBe(false)
      expect((await review('create', 'portforward')).status?.allowed, cluster.name).toBe(false)
    }
  })

  it('an unknown --service is a usage error naming the nearest services, before any proxy is read', async () => {
    let asked = 0
    const error = await readStats({mgmt, service: 'kind3/default/reviewz', read: async () => (asked++, [])}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SmhError)
    expect((error as SmhError).exitCode).toBe(2)
    expect((error as Error).message).toMatch(/^--service kind3\/default\/reviewz: no such Service; nearest: kind3\/default\/reviews/)
    expect(asked).toBe(0)
  })
})
