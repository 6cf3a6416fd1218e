/**
 * Issue 10's must-show for `stats --prometheus-url`: Debian's Prometheus (test/env/build-tools.sh prometheus) scrapes
 * every Envoy of the demo's data plane (`demo up --dataplane`, then the seed walkthrough) at `<pod IP>:15090
 * /stats/prometheus`, as a cluster's Prometheus scrapes Istio's sidecars, with `cluster`, `namespace` and `pod` target
 * labels. After `demo traffic` from kind2's productpage to reviews, readPrometheusSamples gives, for that pod, the same
 * samples of Envoy's upstream_rq counters (`envoy_cluster_<tail>_upstream_rq{envoy_cluster_name,envoy_response_code}`,
 * upstream Envoy's default tags) as reading the pod's `/stats/prometheus` directly: the same names and labels, values
 * at least what the pod showed before the scrape and at most what it shows after.
 *
 * Targets are static, written from the data plane's state (pod addresses): Debian's build of Prometheus has no
 * kubernetes_sd_configs, so it cannot discover the pods from the API servers. Root and the data plane lock
 * (`flock /tmp/smh-dataplane.lock`).
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {requireBinary} from '../../src/controlplane/binaries.js'
import {freePort} from '../../src/controlplane/processes.js'
import {type DataPlaneState, type RunningPod} from '../../src/dataplane/index.js'
import {SmhError} from '../../src/errors.js'
import {metricMatcher, STATS_METRICS} from '../../src/observe/prometheus.js'
import type {Sample} from '../../src/observe/stats-samples.js'
import {dataPlaneDir} from '../../src/services/demo/dataplane.js'
import {readPrometheusSamples} from '../../src/services/stats-prometheus.js'
import {runCli} from '../support/cli.js'
import {dataPlaneUp, walkthroughOnDataPlane} from '../support/dataplane.js'
import {parseExposition} from '../../src/observe/exposition.js'

const ROOT = process.getuid?.() === 0
const demoDir = mkdtempSync(join(tmpdir(), 'smh-promstats-'))
const promDir = mkdtempSync(join(tmpdir(), 'smh-prometheus-'))
const env = {KUBECTL_SMH_DEMO_DIR: demoDir}
const cli = (args: string[]) => runCli(args, {env})
const dir = dataPlaneDir(demoDir)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const isStats = metricMatcher(STATS_METRICS)
let state: DataPlaneState
let prometheus: ChildProcess | undefined
let promUrl = ''
let promLog = ''

/** The pod's own `/stats/prometheus` (port 15090 at its pod address, as Prometheus reads it), parsed: the stats metrics. */
async function direct(pod: RunningPod): Promise<Sample[]> {
  const res = await fetch(`http://${pod.addresses[0]}:15090/stats/prometheus`, {signal: AbortSignal.timeout(5000)})
  expect(res.status).toBe(200)
  // Prometheus keeps no label with an empty value (its data model): compare without them.
  return parseExposition(await res.text()).filter((s) => isStats(s.name))
    .map((s) => ({...s, labels: Object.fromEntries(Object.entries(s.labels).filter(([, v]) => v !== ''))}))
}

const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`
const byKey = (samples: Sample[]) => new Map(samples.map((s) => [key(s), s.value]))

async function targets(): Promise<{labels: Record<string, string>; health: string; lastScrape: string; lastError: string}[]> {
  const body = await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json() as {data: {activeTargets: {labels: Record<string, string>; health: string; lastScrape: string; lastError: string}[]}}
  return body.data.activeTargets
}

/** Until Prometheus has scraped the pod's target after `since` (its lastScrape started later). */
async function scrapedAfter(pod: RunningPod, since: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const t = (await targets()).find((x) => x.labels.cluster === pod.cluster && x.labels.pod === pod.name)
    if (t && t.health === 'up' && Date.parse(t.lastScrape) > since) return
    if (Date.now() > end) throw new Error(`Prometheus did not scrape ${pod.cluster}/${pod.name} after ${new Date(since).toISOString()}: ${JSON.stringify(t)}`)
    await sleep(200)
  }
}

describe("stats --prometheus-url against Debian's Prometheus scraping the demo's Envoys", () => {
  beforeAll(async () => {
    if (!ROOT) throw new Error('the data plane tests need root (network namespaces, veth pairs, iptables): run the integration suite as root, as CI does')
    const binary = requireBinary('prometheus')
    await dataPlaneUp(cli, dir)
    state = await walkthroughOnDataPlane(cli, dir)

    // Debian's Prometheus: its own data folder, localhost only, every Envoy a static target with its pod's labels.
    const port = await freePort()
    promUrl = `http://127.0.0.1:${port}`
    const groups = state.pods.map((p) => ({targets: [`${p.addresses[0]}:15090`], labels: {cluster: p.cluster, namespace: p.namespace, pod: p.name}}))
    const config = {
      global: {scrape_interval: '1s', scrape_timeout: '1s'},
      scrape_configs: [{job_name: 'envoy-stats', metrics_path: '/stats/prometheus', static_configs: groups}],
    }
    writeFileSync(join(promDir, 'prometheus.yml'), JSON.stringify(config, null, 2)) // JSON is YAML
    promLog = join(promDir, 'prometheus.log')
    const log = openSync(promLog, 'a')
    prometheus = spawn(binary, [
      `--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h',
    ], {stdio: ['ignore', log, log]})
    for (let i = 0; i < 100; i++) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited (${prometheus.exitCode}): see ${promLog}`)
      if (await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)) break
      await sleep(200)
    }
  }, 600_000)

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r))
      prometheus.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL')
    }
    rmSync(promDir, {recursive: true, force: true})
    if (ROOT) await cli(['demo', 'down'])
    rmSync(demoDir, {recursive: true, force: true})
  }, 120_000)

  it('Prometheus scrapes every Envoy of the data plane at its pod address', async () => {
    const end = Date.now() + 30_000
    let t = await targets()
    // Static targets reach the scrape loops through the discovery manager (a few seconds), then each is scraped.
    while ((t.length < state.pods.length || t.some((x) => x.health !== 'up')) && Date.now() < end) {
      await sleep(500)
      t = await targets()
    }
    expect(t.filter((x) => x.health !== 'up').map((x) => `${x.labels.cluster}/${x.labels.pod}: ${x.health} ${x.lastError}`)).toEqual([])
    expect(t.map((x) => `${x.labels.cluster}/${x.labels.namespace}/${x.labels.pod}`).sort())
      .toEqual(state.pods.map((p) => `${p.cluster}/${p.namespace}/${p.name}`).sort())
    expect(state.pods.length).toBeGreaterThan(10)
  }, 60_000)

  it("after demo traffic, kind2's productpage has the same Envoy upstream_rq samples in Prometheus as on its /stats/prometheus", async () => {
    const pp = state.pods.find((p) => p.cluster === 'kind2' && p.deployment === 'productpage-v1')!
    const traffic = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080', '--requests', '40', '-o', 'json'])
    expect(traffic.code, traffic.stderr).toBe(0)
    const sent = JSON.parse(traffic.stdout) as {codes: Record<string, number>}
    expect(sent.codes['200']).toBeGreaterThan(0)

    const before = await direct(pp)
    const readAt = Date.now()
    await scrapedAfter(pp, readAt)
    const pods = await readPrometheusSamples(promUrl)
    const after = await direct(pp)

    const fromProm = pods.find((p) => p.cluster === 'kind2' && p.namespace === 'default' && p.pod === pp.name)
    expect(fromProm, JSON.stringify(pods.map((p) => `${p.cluster}/${p.pod}`))).toBeDefined()
    const prom = byKey(fromProm!.samples)
    const was = byKey(before)
    const is = byKey(after)
    // Same series (metric name and labels exactly as the pod serves them): every one the pod had before the scrape,
    // none it does not have after the query.
    expect([...was.keys()].filter((k) => !prom.has(k)), 'on the pod, not in Prometheus').toEqual([])
    expect([...prom.keys()].filter((k) => !is.has(k)), 'in Prometheus, not on the pod').toEqual([])
    // Values: at least what the pod showed before the scrape, at most what it shows after the query.
    for (const [k, v] of prom) {
      expect(v, k).toBeGreaterThanOrEqual(was.get(k) ?? 0)
      expect(v, k).toBeLessThanOrEqual(is.get(k)!)
    }
    // The traffic is there: kind2's productpage called reviews (whichever cluster names Istio's config gives it).
    const reviews200 = fromProm!.samples.filter((s) => s.labels.envoy_response_code === '200' && /^outbound\|9080\|\|reviews/.test(s.labels.envoy_cluster_name))
    expect(reviews200.reduce((n, s) => n + s.value, 0), JSON.stringify(fromProm!.samples)).toBeGreaterThanOrEqual(sent.codes['200'])
    for (const s of fromProm!.samples) expect(['envoy_cluster_name', 'envoy_cluster_name,envoy_response_code']).toContain(Object.keys(s.labels).sort().join(','))
    console.log(`prometheus: ${pods.length} pods; kind2 productpage ${fromProm!.samples.length} samples (${was.size} on the pod before): ${reviews200.map((s) => `${s.name}{${s.labels.envoy_cluster_name}} 200=${s.value}`).join(', ')}`)
  }, 120_000)

  it('kubectl smh stats --prometheus-url gives the rows `stats` reads from the proxies themselves (traffic stopped, one scrape later)', async () => {
    const kubeconfig = join(demoDir, 'kubeconfig')
    const traffic = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080', '--requests', '20'])
    expect(traffic.code, traffic.stderr).toBe(0)
    const since = Date.now()
    for (const pod of state.pods) await scrapedAfter(pod, since)
    const rows = async (extra: string[]) => {
      const r = await cli(['stats', '--kubeconfig', kubeconfig, '--service', 'kind2/default/reviews', '-o', 'json', ...extra])
      expect(r.code, r.stderr).toBe(0)
      const reading = JSON.parse(r.stdout) as {rows: {requests: number}[]; unreadable: unknown[]}
      expect(reading.unreadable).toEqual([])
      return reading.rows.map((row) => JSON.stringify(row)).sort()
    }
    const fromProxies = await rows([])
    expect(fromProxies.length).toBeGreaterThan(0)
    expect(await rows(['--prometheus-url', promUrl])).toEqual(fromProxies)
  }, 120_000)

  it("the default metrics: upstream Envoy has no istio_requests_total, so only Envoy's upstream_rq counters come back", async () => {
    const pods = await readPrometheusSamples(promUrl)
    const names = [...new Set(pods.flatMap((p) => p.samples.map((s) => s.name)))]
    expect(names.filter((n) => !/^envoy_cluster_(.*_)?upstream_rq(_total)?$/.test(n))).toEqual([])
    expect(names).toContain('envoy_cluster_upstream_rq_total')
    expect(pods.some((p) => p.cluster === 'kind2' && p.pod.startsWith('productpage-v1-'))).toBe(true)
  }, 30_000)

  it('a URL that is not the server\'s API (a wrong path prefix) → one line with the URL and the fix, exit code 1', async () => {
    const error = await readPrometheusSamples(`${promUrl}/prometheus`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SmhError)
    expect((error as SmhError).exitCode).toBe(1)
    expect((error as Error).message).toBe(`Prometheus at ${promUrl}/prometheus did not answer as Prometheus's HTTP API (GET /prometheus/api/v1/query: 404 Not Found, not JSON): check --prometheus-url (the server's base URL, e.g. http://127.0.0.1:9090) and that the server runs`)
  }, 30_000)

  it('labels the scrape config does not set → one line naming them (here: no cluster label under that name)', async () => {
    const error = await readPrometheusSamples(promUrl, {labels: {cluster: 'k8s_cluster'}}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SmhError)
    expect((error as Error).message).toMatch(new RegExp(`^Prometheus at ${promUrl} has \\d+ series of istio_requests_total, envoy_cluster_\\S+ but none with the label\\(s\\) "k8s_cluster" that name their pod: add them as target labels`))
    expect((error as Error).message).not.toContain('\n')
  }, 30_000)
})
