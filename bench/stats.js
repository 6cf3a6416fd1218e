#!/usr/bin/env node
// Benchmark of `kubectl smh stats` (issue 10): 100 proxied pods over 3 registered clusters (kind1 is also the
// management cluster), every pod's :15090/stats/prometheus read through its API server's pod proxy with the
// registration's stored token. Target ≤ 2 s. Prints wall time and the requests made; asserts nothing.
// Setup (not measured): 3 local control planes; `install`, `register cluster` ×3; per cluster ~33 Pods with an
// `istio-proxy` container whose status.podIP is an address of ours; one network namespace (smh-bench-stats, a veth
// to the host, addresses in 10.249.0.0/24 checked free with `ip route get`) where one small HTTP server answers
// every pod address on :15090 with Istio-shaped exposition text of a real sidecar's size (it ignores Envoy's
// usedonly/filter parameters, so every answer is the full text: the worst case). Everything it made is removed,
// also on failure. Needs root; holds the data plane lock (/tmp/smh-dataplane.lock) while it runs.
// Usage (after npm run build): node bench/stats.js [--rounds 5] [--pods 100]
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {fmtSeconds as fmt, machineLoad, median, since, withControlPlanes} from './support.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback)
const rounds = option('--rounds', 5)
const podCount = option('--pods', 100)
const LOCK = '/tmp/smh-dataplane.lock'

if (process.getuid?.() !== 0) {
  console.log('stats benchmark: skipped (needs root: a network namespace and a veth pair)')
  process.exit(0)
}
// The data plane's addresses and `smh` links are one per machine: hold the lock for the whole run.
if (!process.env.SMH_STATS_BENCH_LOCKED) {
  const r = spawnSync('flock', [LOCK, process.execPath, fileURLToPath(import.meta.url), ...args], {stdio: 'inherit', env: {...process.env, SMH_STATS_BENCH_LOCKED: '1'}})
  process.exit(r.status ?? 1)
}

const ip = (...a) => execFileSync('ip', a, {encoding: 'utf8'})

const {loadKubeconfig, forContext} = await import('../dist/kube/kubeconfig.js')
const {ClusterClient} = await import('../dist/kube/client.js')
const {install} = await import('../dist/services/install.js')
const {registerCluster} = await import('../dist/services/register.js')
const {readStats} = await import('../dist/services/stats.js')
const {checkAddressesFree, checkAddressesRouted} = await import('../dist/dataplane/addresses.js')
const {CoreV1Api} = await import('@kubernetes/client-node')

const NETNS = 'smh-bench-stats'
const HOST_LINK = 'smhbenchs0'
const HOST_ADDRESS = '10.249.1.1'
const podAddress = (i) => `10.249.0.${10 + i}`

/** Istio-shaped exposition text of a sidecar's size: Envoy's cluster and listener stats, Istio's standard metrics. */
function exposition() {
  const lines = []
  const stats = ['upstream_cx_total', 'upstream_cx_active', 'upstream_cx_connect_fail', 'upstream_rq_total', 'upstream_rq_active', 'upstream_rq_pending_total',
    'upstream_rq_timeout', 'upstream_rq_retry', 'membership_healthy', 'membership_total', 'lb_healthy_panic', 'update_success', 'update_attempt', 'bind_errors', 'max_host_weight']
  for (const stat of stats) {
    lines.push(`# TYPE envoy_cluster_${stat} counter`)
    for (let s = 0; s < 100; s++) lines.push(`envoy_cluster_${stat}{envoy_cluster_name="outbound|9080||svc-${s}.default.svc.cluster.local"} ${s * 7}`)
  }
  lines.push('# TYPE envoy_cluster_upstream_rq counter')
  for (let s = 0; s < 100; s++) lines.push(`envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="outbound|9080||svc-${s}.default.svc.cluster.local"} ${s * 11}`)
  lines.push('# TYPE istio_requests_total counter')
  for (let s = 0; s < 20; s++) {
    for (const code of ['200', '503']) {
      lines.push(`istio_requests_total{reporter="source",source_workload="WORKLOAD",source_canonical_service="WORKLOAD",source_canonical_revision="v1",source_workload_namespace="default",source_principal="spiffe://cluster.local/ns/default/sa/default",source_app="WORKLOAD",source_version="v1",source_cluster="Kubernetes",destination_workload="svc-${s}-v1",destination_workload_namespace="default",destination_principal="spiffe://cluster.local/ns/default/sa/svc-${s}",destination_app="svc-${s}",destination_version="v1",destination_service="svc-${s}.default.svc.cluster.local",destination_canonical_service="svc-${s}",destination_canonical_revision="v1",destination_service_name="svc-${s}",destination_service_namespace="default",destination_cluster="Kubernetes",request_protocol="http",response_code="${code}",grpc_response_status="",response_flags="-",connection_security_policy="unknown"} ${code === '200' ? 1000 + s : s}`)
    }
  }
  lines.push('# TYPE istio_request_duration_milliseconds histogram')
  for (let s = 0; s < 20; s++) {
    for (const le of ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf']) {
      lines.push(`istio_request_duration_milliseconds_bucket{reporter="source",source_workload="WORKLOAD",destination_service="svc-${s}.default.svc.cluster.local",response_code="200",le="${le}"} ${s}`)
    }
  }
  return `${lines.join('\n')}\n`
}

const SERVER = `
const {createServer} = require('node:http')
const body = require('node:fs').readFileSync(process.env.BODY_FILE, 'utf8')
createServer((req, res) => {
  const text = body.replaceAll('WORKLOAD', 'app-' + req.socket.localAddress.split('.').pop())
  res.writeHead(200, {'content-type': 'text/plain; version=0.0.4'})
  res.end(text)
}).listen(15090, '0.0.0.0', () => process.stdout.write('listening\\n'))
`

const dir = mkdtempSync(join(tmpdir(), 'smh-bench-stats-'))
const clusters = ['kind1', 'kind2', 'kind3']
let server
let netnsMade = false
try {
  const setup = process.hrtime.bigint()
  const addresses = Array.from({length: podCount}, (_, i) => podAddress(i))
  checkAddressesFree([...addresses, HOST_ADDRESS])
  // One namespace holds every pod address; no default route in it (DESIGN.md §10), only the way back to the host.
  ip('netns', 'add', NETNS)
  netnsMade = true
  ip('link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NETNS)
  ip('addr', 'add', `${HOST_ADDRESS}/32`, 'dev', HOST_LINK)
  ip('link', 'set', HOST_LINK, 'up')
  ip('-n', NETNS, 'link', 'set', 'lo', 'up')
  ip('-n', NETNS, 'link', 'set', 'eth0', 'up')
  for (const address of addresses) ip('-n', NETNS, 'addr', 'add', `${address}/32`, 'dev', 'eth0')
  ip('-n', NETNS, 'route', 'add', `${HOST_ADDRESS}/32`, 'dev', 'eth0')
  ip('route', 'add', '10.249.0.0/24', 'dev', HOST_LINK, 'src', HOST_ADDRESS)
  checkAddressesRouted(addresses.map((address) => ({address, link: HOST_LINK})))
  const body = exposition()
  // A file, not the environment: one environment string may not exceed 128 KB.
  writeFileSync(join(dir, 'exposition.txt'), body)
  server = spawn('ip', ['netns', 'exec', NETNS, process.execPath, '-e', SERVER], {env: {...process.env, BODY_FILE: join(dir, 'exposition.txt')}, stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise((resolve, reject) => {
    server.stdout.once('data', resolve)
    server.once('exit', (code) => reject(new Error(`the stats server exited ${code}`)))
  })

  await withControlPlanes('stats', clusters, async (plane) => {
    const kc = loadKubeconfig({kubeconfig: plane.state.kubeconfig})
    const mgmt = ClusterClient.forContext(kc, 'kind1')
    await install(mgmt)
    for (const cluster of clusters) await registerCluster({kubeconfig: kc, mgmt, name: cluster, remoteContext: cluster, tokenDurationSeconds: 3600})
    // ~33 proxied pods per cluster, Running with an address of ours (written through the status subresource).
    await Promise.all(clusters.map(async (cluster, c) => {
      const client = ClusterClient.forContext(kc, cluster)
      const core = forContext(kc, cluster).makeApiClient(CoreV1Api)
      for (let i = c; i < podCount; i += clusters.length) {
        const name = `app-${i}-abcde`
        const pod = await client.apply({apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'default', labels: {app: `app-${i % 10}`, version: 'v1'}},
          spec: {containers: [{name: 'app', image: 'app'}, {name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3'}]}})
        await core.replaceNamespacedPodStatus({name, namespace: 'default', body: {...pod, status: {phase: 'Running', podIP: podAddress(i), podIPs: [{ip: podAddress(i)}]}}})
      }
      for (let s = 0; s < 10; s++) await client.apply({apiVersion: 'v1', kind: 'Service', metadata: {name: `svc-${s}`, namespace: 'default'}, spec: {selector: {app: `app-${s}`}, ports: [{port: 9080}]}})
    }))
    console.log(`stats over ${podCount} proxied pods in 3 clusters (kind1 management and registered, kind2, kind3), read through the API servers with the stored tokens; each proxy answers ${(Buffer.byteLength(body) / 1024).toFixed(0)} KB of Istio-shaped text; ${machineLoad()}`)
    console.log(`  setup (not measured): ${fmt(since(setup))}`)

    const times = []
    let reading
    for (let i = 0; i < rounds; i++) {
      const start = process.hrtime.bigint()
      reading = await readStats({mgmt: ClusterClient.forContext(kc, 'kind1')})
      times.push(since(start))
    }
    console.log(`  service (readStats, concurrency 16): median ${fmt(median(times))} (${times.map(fmt).join(', ')}); ${reading.read}/${reading.proxies} proxies read, ${reading.unreadable.length} unreadable, ${reading.rows.length} rows, ${reading.requests} requests (${reading.requests - reading.proxies} for the registry, lists and mesh configs + ${reading.proxies} proxies)`)
    if (reading.unreadable.length) console.log(`  unreadable: ${reading.unreadable.slice(0, 3).map((u) => `${u.cluster}/${u.pod}: ${u.reason}`).join('; ')}`)
    const cli = []
    for (let i = 0; i < rounds; i++) {
      const start = process.hrtime.bigint()
      const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), 'stats', '-o', 'json'], {env: {...process.env, KUBECONFIG: plane.state.kubeconfig, NO_COLOR: '1'}, encoding: 'utf8', maxBuffer: 1 << 26})
      cli.push(since(start))
      if (r.status !== 0) console.log(`  (stats exited ${r.status}: ${r.stderr.trim()})`)
    }
    console.log(`  cli (kubectl smh stats -o json, new process): median ${fmt(median(cli))} (${cli.map(fmt).join(', ')}); target ≤ 2 s`)
  })
} finally {
  server?.kill()
  rmSync(dir, {recursive: true, force: true})
  // Deleting the namespace removes its end of the veth pair, and so the host's end and the route through it.
  if (netnsMade) spawnSync('ip', ['netns', 'delete', NETNS])
  spawnSync('ip', ['link', 'delete', HOST_LINK], {stdio: 'ignore'})
}
