/**
 * Issue 9's must-show, end to end on its own demo (own clusters, own folder; root): `demo up --dataplane` runs every
 * proxy on the config Istio's own generator makes from its cluster's live objects (the istiod stand-in,
 * src/dataplane/istiod.ts, as file-based xDS); the seed walkthrough (`demo up --walkthrough`) then reaches the
 * running Envoys through the stand-in's loop, without restarting them; every Envoy accepts its whole config; 200
 * requests from kind2's productpage to reviews:9080 are all answered by kind2's reviews; after `demo fail
 * kind2/default/reviews` the answers come from kind3 (through kind3's east-west gateway, mTLS with the virtual
 * mesh's shared root). The failover time and the errors during the switch are measured and printed. `kubectl smh
 * simulate` (issue 10) agrees with what the data plane does: the tier it says serves, before and after the failure, is
 * the cluster (and the pods) that answered.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {adminGet, readDataPlaneState, type DataPlaneState} from '../../src/dataplane/index.js'
import {readIstiodStatus, waitForGeneration} from '../../src/dataplane/istiod.js'
import type {Simulation} from '../../src/observe/simulate.js'
import {dataPlaneDir, demoFail, demoHeal, demoTraffic} from '../../src/services/demo/dataplane.js'
import {runCli} from '../support/cli.js'
import {allAccepted, certificatesFromCacerts, generationsNow} from '../support/dataplane.js'

const ROOT = process.getuid?.() === 0
const demoDir = mkdtempSync(join(tmpdir(), 'smh-failover-'))
const env = {KUBECTL_SMH_DEMO_DIR: demoDir}
const cli = (args: string[]) => runCli(args, {env})
const dir = dataPlaneDir(demoDir)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
let state: DataPlaneState
let failoverAt = 0
const pids = () => Object.fromEntries(state.pods.map((p) => [`${p.cluster}/${p.name}`, p.proxy?.pid]))

/**
 * `kubectl smh simulate kind2/default/reviews --from kind2 [--fail ...] -o json` on the demo's clusters: the serving
 * tier of kind2's reviews route (the failover service's tiers), healthy or with the --fail parts out.
 */
async function simulated(fail: string[] = []): Promise<{servedBy: string; tier: {cluster: string; service: string}; tiers: string[]}> {
  const out = await cli(['simulate', 'kind2/default/reviews', '--from', 'kind2', ...fail.flatMap((f) => ['--fail', f]), '--kubeconfig', state.kubeconfig, '--mgmt-context', 'kind1', '-o', 'json'])
  expect(out.code, out.stderr).toBe(0)
  const sim = JSON.parse(out.stdout) as Simulation
  const view = (fail.length ? sim.failed : sim.healthy)!
  expect(view.map((v) => v.cluster)).toEqual(['kind2'])
  const [destination] = view[0].routes[0].destinations
  expect(destination.type).toBe('failover')
  const tier = destination.tiers.find((t) => t.service === destination.servedBy)!
  expect(tier, JSON.stringify(destination)).toBeDefined()
  return {servedBy: destination.servedBy!, tier, tiers: destination.tiers.map((t) => `${t.priority}:${t.service}${t.failed ? ' failed' : ''}`)}
}

/** The pods of the data plane behind a simulated tier's service (CLUSTER/NS/SVC), by name, and their versions. */
function podsBehind(service: string): {names: Set<string>; versions: Set<string>} {
  const [cluster, namespace, name] = service.split('/')
  const svc = state.services.find((s) => s.cluster === cluster && s.namespace === namespace && s.name === name)!
  const pods = state.pods.filter((p) => p.cluster === cluster && p.namespace === namespace && Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v))
  return {names: new Set(pods.map((p) => p.name)), versions: new Set(pods.map((p) => p.version))}
}

describe('seed failover proven by requests, on Istio-generated config (istiod stand-in, file-based xDS)', () => {
  beforeAll(async () => {
    if (!ROOT) throw new Error('the data plane tests need root (network namespaces, veth pairs, iptables): run the integration suite as root, as CI does')
    const up = await cli(['demo', 'up', '--dataplane'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.stderr).toContain('istiod stand-in watching kind2, kind3')
    state = readDataPlaneState(dir)!
    await waitForGeneration(dir, ['kind2', 'kind3'])
  }, 400_000)
  afterAll(async () => {
    if (ROOT) await cli(['demo', 'down'])
  }, 120_000)

  it('every Envoy runs on Istio-generated config and accepts it', async () => {
    await allAccepted(state)
    // Istio's names, not the minimal config's: the productpage sidecar has Istio's outbound clusters and listeners.
    const pp = state.pods.find((p) => p.cluster === 'kind2' && p.deployment === 'productpage-v1')!
    const dump = JSON.parse(await adminGet(pp.netns, '/config_dump?resource=dynamic_active_clusters'))
    expect(dump.configs.map((c: any) => c.cluster.name)).toContain('outbound|9080||reviews.default.svc.cluster.local')
  }, 120_000)

  it('the seed walkthrough (a sync) reaches the running Envoys without restarting them', async () => {
    const before = pids()
    const generations = generationsNow(dir)
    const started = Date.now()
    const wt = await cli(['demo', 'up', '--walkthrough'])
    expect(wt.code, wt.stderr).toBe(0)
    // The loop sees the new objects (and the workload certificates renewed under the virtual mesh's root).
    await waitForGeneration(dir, ['kind2', 'kind3'], generations)
    // The stand-in renews the workload certificates under the virtual mesh's intermediates (as istiod's CA would).
    state = await certificatesFromCacerts(dir)
    expect(Object.values(state.cas).map((c) => c.source)).toEqual(['cacerts', 'cacerts'])
    await allAccepted(state)
    const pp = state.pods.find((p) => p.cluster === 'kind2' && p.deployment === 'productpage-v1')!
    const dump = JSON.parse(await adminGet(pp.netns, '/config_dump?resource=dynamic_active_clusters'))
    expect(dump.configs.map((c: any) => c.cluster.name)).toContain('outbound|9080||reviews-failover.default.global')
    expect(pids()).toEqual(before)
    console.log(`walkthrough → every Envoy on the new config: ${((Date.now() - started) / 1000).toFixed(1)} s (istiod stand-in: ${JSON.stringify(readIstiodStatus(dir)!.clusters)})`)
  }, 300_000)

  it("200 requests from kind2's productpage to reviews:9080 are all answered by kind2's reviews", async () => {
    const out = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080', '--requests', '200', '-o', 'json'])
    expect(out.code, out.stderr).toBe(0)
    const result = JSON.parse(out.stdout)
    expect(result.codes).toEqual({200: 200})
    expect(new Set(result.by.map((b: any) => b.cluster))).toEqual(new Set(['kind2']))
    expect(result.by.map((b: any) => b.pod.replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['reviews-v1', 'reviews-v2'])
  }, 120_000)

  it('simulate says kind2 serves reviews for kind2, and the data plane agrees: every answer from its pods', async () => {
    const sim = await simulated()
    expect(sim.tiers).toEqual(['1:kind2/default/reviews', '2:kind3/default/reviews'])
    expect(sim.servedBy).toBe('kind2/default/reviews')
    const out = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080', '--requests', '40', '-o', 'json'])
    expect(out.code, out.stderr).toBe(0)
    const result = JSON.parse(out.stdout)
    expect(result.codes).toEqual({200: 40})
    const behind = podsBehind(sim.servedBy)
    for (const b of result.by) {
      expect(b.cluster).toBe(sim.tier.cluster)
      expect(behind.names.has(b.pod), `${b.pod} behind ${sim.servedBy}`).toBe(true)
      expect(behind.versions.has(b.version)).toBe(true)
    }
  }, 120_000)

  it('demo fail kind2/default/reviews → answers come from kind3 through its gateway (mTLS), failover time measured', async () => {
    const times: {at: number; code: number; cluster?: string}[] = []
    let failedAt = 0
    const traffic = demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 300, rate: 20, onAnswer: (a) => times.push({at: Date.now(), code: a.code, cluster: a.cluster})})
    await sleep(2000)
    failedAt = Date.now()
    failoverAt = failedAt
    const fail = demoFail({demoDir, target: 'kind2/default/reviews'})
    expect(fail.pods.length).toBe(2)
    const result = await traffic
    const before = times.filter((t) => t.at < failedAt)
    const after = times.filter((t) => t.at >= failedAt)
    expect(before.length).toBeGreaterThan(10)
    expect(before.filter((t) => !(t.code === 200 && t.cluster === 'kind2')), 'before demo fail').toEqual([])
    const firstKind3 = after.find((t) => t.cluster === 'kind3' && t.code === 200)
    expect(firstKind3, JSON.stringify(result.by)).toBeDefined()
    const lastBad = [...after].reverse().find((t) => !(t.cluster === 'kind3' && t.code === 200))
    const errors = after.filter((t) => t.code !== 200)
    const settled = after.filter((t) => t.at > (lastBad?.at ?? 0))
    console.log(`failover: first answer from kind3 ${firstKind3!.at - failedAt} ms after demo fail; all answers from kind3 from ${lastBad ? lastBad.at - failedAt : 0} ms on; ${errors.length} errors during the switch (${JSON.stringify(errors.reduce((m, e) => ({...m, [e.code]: (m[e.code] ?? 0) + 1}), {} as Record<number, number>))}), ${settled.length} answers after it, all from kind3`)
    // Within the outlier detection's interval (10 s) every answer comes from kind3, and stays so.
    expect(lastBad ? lastBad.at - failedAt : 0).toBeLessThan(10_000)
    expect(settled.length).toBeGreaterThan(100)
    // Through kind3's gateway: kind2's productpage reached it on 15443 with mTLS; kind3's reviews took the call.
    const pp = state.pods.find((p) => p.cluster === 'kind2' && p.deployment === 'productpage-v1')!
    const clusters = await adminGet(pp.netns, '/clusters')
    expect(clusters).toMatch(/outbound\|9080\|\|reviews\.default\.svc\.kind3\.global::10\.247\.255\.1:15443::rq_success::[1-9]/)
    // simulate with the same failure names kind3's tier, and the data plane agrees: every answer after the switch comes
    // from kind3's reviews pods, of the versions that tier has (v1, v2, v3; which of them answer depends on the pod
    // kind3's gateway chose for productpage's connection: AUTO_PASSTHROUGH balances connections, not requests).
    const sim = await simulated(['kind2/default/reviews'])
    expect(sim.tiers).toEqual(['1:kind2/default/reviews failed', '2:kind3/default/reviews'])
    expect(sim.servedBy).toBe('kind3/default/reviews')
    expect(sim.tier.cluster).toBe('kind3')
    const behind = podsBehind(sim.servedBy)
    const servedPods = new Set(result.answers.slice(-settled.length).map((a) => a.pod!))
    expect([...servedPods].filter((p) => !behind.names.has(p))).toEqual([])
    expect(behind.versions).toEqual(new Set(['v1', 'v2', 'v3']))
    expect([...new Set(result.answers.slice(-settled.length).map((a) => a.version!))].filter((v) => !behind.versions.has(v))).toEqual([])
    const gw = state.pods.find((p) => p.cluster === 'kind3' && p.kind === 'gateway')!
    expect(await adminGet(gw.netns, '/stats?filter=^listener.0.0.0.0_15443.downstream_cx_total$')).toMatch(/: [1-9]/)
    const reviews3 = state.pods.filter((p) => p.cluster === 'kind3' && p.app === 'reviews')
    const handshakes = await Promise.all(reviews3.map((p) => adminGet(p.netns, '/stats?filter=^listener.0.0.0.0_15006.ssl.handshake$')))
    expect(handshakes.join('\n')).toMatch(/: [1-9]/)
  }, 120_000)

  it('demo heal → traffic returns to kind2 once the base ejection time (2 min) is over, not before', async () => {
    const heal = demoHeal({demoDir, target: 'kind2/default/reviews'})
    expect(heal.pods.length).toBe(2)
    const healedAt = Date.now()
    let back: number | undefined
    const seen: string[] = []
    while (!back && Date.now() - failoverAt < 170_000) {
      const r = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 4})
      seen.push(...r.answers.map((a) => `${a.cluster}:${a.code}`))
      if (r.answers.some((a) => a.cluster === 'kind2' && a.code === 200)) back = Date.now()
      else await sleep(2000)
    }
    expect(back, `answers since heal: ${seen.join(' ')}`).toBeDefined()
    console.log(`heal: first answer from kind2 ${back! - healedAt} ms after demo heal, ${back! - failoverAt} ms after demo fail (base ejection 120 s, interval 10 s)`)
    // Healed kind2 hosts stay ejected for the base ejection time after their last failure (the switch, above).
    expect(back! - failoverAt).toBeGreaterThan(110_000)
    expect(seen.filter((x) => !x.endsWith(':200'))).toEqual([])
  }, 200_000)
})
