#!/usr/bin/env node
// Benchmark of the demo's real data plane (issue 9): the seed's failover measured by requests, and how long a sync
// takes to reach the running Envoys. Needs root and the machine's data plane lock (one data plane per machine):
//   npm run build && flock /tmp/smh-dataplane.lock node bench/failover.js [--runs 5] [--rate 50] [--no-explain]
// Brings the demo up once in a folder of its own (`demo up --dataplane`, then `demo up --walkthrough`: the seed's
// objects on Istio's generated config, the istiod stand-in's loop running), then:
//  1. failover, --runs times: traffic from kind2's productpage to reviews:9080 at --rate req/s; after 2 s
//     `demo fail kind2/default/reviews`; per run the time to the first answer from kind3, the time from which every
//     answer comes from kind3, the errors in between (which pod answered each 503, or Envoy's own 503), and
//     productpage's Envoy stats over the run (outlier ejections, retries, cluster manager updates merged).
//     Between runs: `demo heal`, then productpage's Envoy is restarted on the same config files, so it starts
//     without the 2-minute ejections of the run before (the seed's baseEjectionTime); the first run starts from
//     the same state (no ejection, no upstream connection), so every run measures the same switch.
//  2. (unless --no-explain) the same failover twice on a changed copy of productpage's config: the local reviews
//     cluster with common_lb_config.update_merge_window 0s (Envoy's default, which Istio keeps, is 1 s). Not what
//     Istio pushes: an experiment that shows where the second of 503s comes from.
//  3. config delivery, --runs times: `set outlier ... --base-ejection-time 3m|2m --no-sync`, then `kubectl smh sync`;
//     from sync's return until every Envoy with the reviews cluster runs the new value, broken down into the
//     stand-in's wait for its next poll, its generation (Istio's generator per proxy), the file write (cds.json's
//     mtime) and Envoy's reload (the cluster's last_updated in its config dump).
// Prints figures (and the machine's load: other work shares the cores), asserts nothing. Cleans up on exit,
// also on failure or Ctrl-C (`demo down`: namespaces, links, Envoys, apps, the stand-in, the control planes).
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {machineLoad, median} from './support.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || dflt : dflt)
const runs = opt('--runs', 5)
const rate = opt('--rate', 50)
const explain = !args.includes('--no-explain')
const spread = (xs) => `median ${median(xs).toFixed(0)}, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

if (process.getuid?.() !== 0) {
  console.log('failover: skipped (the data plane needs root: sudo flock /tmp/smh-dataplane.lock node bench/failover.js)')
  process.exit(0)
}

const {readDataPlaneState, adminGet, envoyStats, restartProxy} = await import('../dist/dataplane/index.js')
const {readIstiodStatus, waitForGeneration} = await import('../dist/dataplane/istiod.js')
const {writeXdsFiles} = await import('../dist/dataplane/envoy.js')
const {dataPlaneDir, demoFail, demoHeal, demoTraffic} = await import('../dist/services/demo/dataplane.js')

const demoDir = mkdtempSync(join(tmpdir(), 'smh-bench-failover-'))
const dir = dataPlaneDir(demoDir)
const cli = (argv) => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), ...argv], {env: {...process.env, NO_COLOR: '1', KUBECTL_SMH_DEMO_DIR: demoDir}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  child.on('error', reject)
  child.on('close', (code) => resolve({code, stdout, stderr}))
})
const must = async (argv) => {
  const r = await cli(argv)
  if (r.code !== 0) throw new Error(`kubectl smh ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  return r
}

let cleaned = false
async function cleanup() {
  if (cleaned) return
  cleaned = true
  const down = await cli(['demo', 'down']).catch((e) => ({code: 1, stderr: e.message}))
  if (down.code !== 0) console.log(`  (demo down exited ${down.code}: ${down.stderr.trim()})`)
  rmSync(demoDir, {recursive: true, force: true})
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cleanup().finally(() => process.exit(130)))

const PP = {cluster: 'kind2', deployment: 'productpage-v1'}
const LOCAL = 'outbound|9080||reviews.default.svc.cluster.local'
const REMOTE = 'outbound|9080||reviews.default.svc.kind3.global'
const AGG = 'outbound|9080||reviews-failover.default.global'
// [label, cluster (undefined: a server-wide stat), stat]. Istio's clusters carry alt_stat_name `NAME;`, which upstream
// Envoy uses verbatim as the stats prefix: both spellings are looked up.
const STATS = [
  ['ejections (local)', LOCAL, 'outlier_detection.ejections_enforced_total'],
  ['ejections (kind3)', REMOTE, 'outlier_detection.ejections_enforced_total'],
  // Response codes and retries count on the route's cluster (the aggregate); requests and outlier stats on the host's.
  ['rq (local)', LOCAL, 'upstream_rq_total'],
  ['rq (kind3)', REMOTE, 'upstream_rq_total'],
  ['rq 503 (aggregate)', AGG, 'upstream_rq_503'],
  ['rq 200 (aggregate)', AGG, 'upstream_rq_200'],
  ['retries (aggregate)', AGG, 'upstream_rq_retry'],
  ['retries (local)', LOCAL, 'upstream_rq_retry'],
  ['no healthy (local)', LOCAL, 'upstream_cx_none_healthy'],
  ['no healthy (aggregate)', AGG, 'upstream_cx_none_healthy'],
  ['cm updates', undefined, 'cluster_manager.cluster_updated'],
  ['cm updates merged', undefined, 'cluster_manager.cluster_updated_via_merge'],
  ['cm merge cancelled', undefined, 'cluster_manager.update_merge_cancelled'],
  ['cm out of merge window', undefined, 'cluster_manager.update_out_of_merge_window'],
]

const pod = () => readDataPlaneState(dir).pods.find((p) => p.cluster === PP.cluster && p.deployment === PP.deployment)
async function ppStats() {
  const all = await envoyStats(pod(), '^(cluster\\.outbound\\|9080\\|\\|reviews|cluster_manager\\.)')
  const value = ([, cluster, stat]) => {
    if (!cluster) return all[stat] ?? 0
    return all[`cluster.${cluster}.${stat}`] ?? all[`cluster.${cluster};.${stat}`] ?? 0
  }
  return Object.fromEntries(STATS.map((s) => [s[0], value(s)]))
}

/** One failover: traffic at `rate`, demo fail after 2 s, 4 s more. */
async function failover() {
  const times = []
  const traffic = demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: rate * 6, rate, onAnswer: (a) => times.push({...a, at: Date.now()})})
  await sleep(2000)
  const failedAt = Date.now()
  demoFail({demoDir, target: 'kind2/default/reviews'})
  await traffic
  const before = times.filter((t) => t.at < failedAt)
  const after = times.filter((t) => t.at >= failedAt)
  const good = (t) => t.code === 200 && t.cluster === 'kind3'
  const first = after.find(good)
  const lastBad = [...after].reverse().find((t) => !good(t))
  const bad = after.filter((t) => !good(t))
  const byWho = {}
  for (const t of bad) {
    const who = t.cluster ? `${t.code} from ${t.pod.replace(/-[^-]+-[^-]+$/, '')}` : `${t.code} Envoy: ${(t.error ?? '').slice(0, 40)}`
    byWho[who] = (byWho[who] ?? 0) + 1
  }
  return {
    beforeOk: before.every((t) => t.code === 200 && t.cluster === 'kind2') && before.length > 0,
    firstMs: first ? first.at - failedAt : NaN,
    allMs: lastBad ? lastBad.at - failedAt : 0,
    errors: bad.filter((t) => t.code !== 200).length,
    notKind3: bad.length,
    byWho,
    // The 503s in order: which kind2 pod answered each (v1/v2) and when.
    sequence: bad.map((t) => `${t.at - failedAt}:${t.pod ? t.pod.replace(/^reviews-(v\d).*/, '$1') : 'envoy'}`).join(' '),
    settled: after.filter((t) => t.at > (lastBad?.at ?? 0)).length,
  }
}

async function freshProductpage() {
  demoHeal({demoDir})
  await restartProxy(dir, {cluster: PP.cluster, name: pod().name})
  // Warm: the local reviews serve again from this new Envoy (new connections), as before the first run.
  const warm = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 10})
  if (warm.codes['200'] !== 10 || warm.by.some((b) => b.cluster !== 'kind2')) throw new Error(`after heal and restart, reviews is not served by kind2: ${JSON.stringify(warm.by)}`)
}

async function failoverRuns(label, n) {
  const results = []
  for (let i = 0; i < n; i++) {
    await freshProductpage()
    const s0 = await ppStats()
    const r = await failover()
    const s1 = await ppStats()
    r.stats = Object.fromEntries(Object.keys(s1).map((k) => [k, s1[k] - s0[k]]))
    results.push(r)
    console.log(`  ${label} run ${i + 1}: first kind3 answer ${r.firstMs} ms, all from kind3 from ${r.allMs} ms; ${r.errors} errors (${JSON.stringify(r.byWho)}); ${r.settled} answers after, all kind3${r.beforeOk ? '' : '; NOT all kind2 before the failure'}; ${machineLoad()}`)
    console.log(`      503s at ms:pod ${r.sequence}`)
    console.log(`      productpage's Envoy: ${Object.entries(r.stats).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  const pick = (k) => results.map((r) => r[k])
  console.log(`  ${label}: first kind3 answer ${spread(pick('firstMs'))} ms; all kind3 from ${spread(pick('allMs'))} ms; errors ${spread(pick('errors'))} (${n} runs at ${rate} req/s)`)
  return results
}

/** Changes productpage's cds.json (a test copy: not what the stand-in generates) and restarts its Envoy on it. */
function patchLocalReviewsCluster(patch) {
  const file = join(pod().configDir, 'cds.json')
  const cds = JSON.parse(readFileSync(file, 'utf8'))
  const cluster = cds.resources.find((c) => c.name === LOCAL)
  if (!cluster) throw new Error(`${LOCAL} not in ${file}`)
  patch(cluster)
  cds.versionInfo = `${cds.versionInfo}-bench`
  writeXdsFiles([{path: file, content: JSON.stringify(cds, null, 2)}])
}

// ---------------------------------------------------------------------------------------------------------------
/** Per affected Envoy, the reviews cluster's baseEjectionTime and when Envoy took the cluster (config dump). */
async function reviewsCluster(p) {
  const dump = JSON.parse(await adminGet(p.netns, `/config_dump?resource=dynamic_active_clusters&name_regex=${encodeURIComponent('^outbound\\|9080\\|\\|reviews\\.default\\.svc\\.cluster\\.local$')}`))
  const c = (dump.configs ?? [])[0]
  if (!c) return undefined
  const od = c.cluster.outlier_detection ?? c.cluster.outlierDetection ?? {}
  return {base: od.base_ejection_time ?? od.baseEjectionTime, lastUpdated: Date.parse(c.last_updated ?? c.lastUpdated)}
}

async function deliveryRuns(n) {
  const state = readDataPlaneState(dir)
  const affected = []
  for (const p of state.pods) if (await reviewsCluster(p).catch(() => undefined)) affected.push(p)
  console.log(`config delivery: set outlier --base-ejection-time (3m, 2m, …) --no-sync, then \`kubectl smh sync\`; ${affected.length} Envoys carry ${LOCAL} (${affected.map((p) => `${p.cluster}/${p.deployment}`).join(', ')})`)
  const rows = []
  for (let i = 0; i < n; i++) {
    const value = i % 2 === 0 ? '3m' : '2m'
    const want = value === '3m' ? '180s' : '120s'
    await must(['set', 'outlier', 'kind2/default/reviews', 'kind3/default/reviews', '--name', 'mgmt-reviews-outlier', '--consecutive-errors', '1', '--interval', '10s', '--base-ejection-time', value, '--no-sync', '--kubeconfig', state.kubeconfig])
    const t0 = Date.now()
    await must(['sync', '--kubeconfig', state.kubeconfig])
    const synced = Date.now()
    const applied = new Map()
    const deadline = synced + 120_000
    while (applied.size < affected.length && Date.now() < deadline) {
      for (const p of affected) {
        if (applied.has(p.name)) continue
        const c = await reviewsCluster(p).catch(() => undefined)
        if (c?.base === want) applied.set(p.name, {p, applied: c.lastUpdated, written: statSync(join(p.configDir, 'cds.json')).mtimeMs})
      }
      if (applied.size < affected.length) await sleep(200)
    }
    if (applied.size < affected.length) throw new Error(`config delivery: ${affected.length - applied.size} Envoys did not take baseEjectionTime ${want} within 120 s`)
    const status = readIstiodStatus(dir)
    const gens = Object.fromEntries(Object.entries(status.clusters).map(([c, s]) => [c, {start: Date.parse(s.at) - s.ms, end: Date.parse(s.at), ms: s.ms, proxies: s.proxies}]))
    const all = [...applied.values()]
    const last = Math.max(...all.map((a) => a.applied))
    const at = (t) => `${t - synced >= 0 ? '+' : ''}${t - synced}`
    const row = {
      sync: synced - t0,
      delivery: last - synced,
      // The stand-in's last generation per cluster (the one that wrote the new value), relative to sync's return:
      // it polls every 2 s and generates the clusters one after the other, each proxy by one run of Istio's generator.
      firstGeneration: Math.min(...Object.values(gens).map((g) => g.start)) - synced,
      perProxy: median(Object.values(gens).map((g) => g.ms / g.proxies)),
      reload: median(all.map((a) => a.applied - a.written)),
      spread: last - Math.min(...all.map((a) => a.applied)),
    }
    rows.push(row)
    console.log(`  run ${i + 1} (${value}): sync ${row.sync} ms; every Envoy on the new config ${row.delivery} ms after sync returned. Generations (ms after sync returned): ${Object.entries(gens).map(([c, g]) => `${c} ${at(g.start)} → ${at(g.end)} (${g.proxies} proxies)`).join(', ')}; file written → Envoy took it median ${row.reload.toFixed(0)} ms; first to last Envoy ${row.spread} ms; ${machineLoad()}`)
  }
  const pick = (k) => rows.map((r) => r[k])
  console.log(`  delivery after sync returned: ${spread(pick('delivery'))} ms (${n} runs). Of it: the stand-in's poll (every 2 s) starts the last generation ${spread(pick('firstGeneration'))} ms after sync returned; Istio's generator ~${median(pick('perProxy')).toFixed(0)} ms per proxy, proxies and clusters one after the other; file write → Envoy took it ${spread(pick('reload'))} ms; sync itself ${spread(pick('sync'))} ms`)
}

// ---------------------------------------------------------------------------------------------------------------
try {
  console.log(`failover on the demo's data plane (Envoy 1.40, Istio's generated config); ${machineLoad()}`)
  const setup = Date.now()
  const up = await must(['demo', 'up', '--dataplane'])
  if (!up.stderr.includes('istiod stand-in watching')) throw new Error(`demo up --dataplane: no istiod stand-in: ${up.stderr}`)
  await waitForGeneration(dir, ['kind2', 'kind3'])
  const generations = Object.fromEntries(Object.entries(readIstiodStatus(dir).clusters).map(([c, s]) => [c, s.generation]))
  await must(['demo', 'up', '--walkthrough'])
  await waitForGeneration(dir, ['kind2', 'kind3'], generations)
  for (let i = 0; i < 60 && Object.values(readDataPlaneState(dir).cas).some((c) => c.source !== 'cacerts'); i++) await sleep(1000)
  let last = ''
  for (let i = 0; i < 60; i++) {
    await sleep(2000)
    const s = JSON.stringify(Object.values(readIstiodStatus(dir).clusters).map((c) => c.generation))
    if (s === last) break
    last = s
  }
  const p = pod()
  console.log(`  setup (not measured): ${((Date.now() - setup) / 1000).toFixed(0)} s; kind2 reviews hosts behind ${LOCAL} in productpage's Envoy: ${(await adminGet(p.netns, '/clusters')).split('\n').filter((l) => l.startsWith(`${LOCAL}::`) && l.includes('::health_flags::')).map((l) => l.split('::')[1]).join(', ')}`)
  console.log(`failover: traffic from kind2/default/productpage-v1 to reviews:9080 at ${rate} req/s, demo fail kind2/default/reviews after 2 s; between runs demo heal + productpage's Envoy restarted (fresh outlier state)`)
  await failoverRuns('seed config', runs)
  if (explain) {
    console.log("experiment (a changed copy of productpage's config, not Istio's): the local reviews cluster with update_merge_window 0s")
    patchLocalReviewsCluster((c) => (c.commonLbConfig = {...(c.commonLbConfig ?? {}), updateMergeWindow: '0s'}))
    await failoverRuns('update_merge_window 0s', 2)
  }
  demoHeal({demoDir})
  await deliveryRuns(runs)
} catch (error) {
  console.log(`failover benchmark failed: ${error.stack ?? error}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
