#!/usr/bin/env node
// Benchmarks of the live path on real local clusters (kind1 management + cluster-a, cluster-b, cluster-c), seeded with
// the translate benchmark's world made real (bench/translate.js): per workload cluster an istiod, its `istio` mesh
// ConfigMap, an east-west gateway Service (tls port, LoadBalancer address) and N services, each backed by two
// Deployments (v1 with 2 replicas, v2 with 1) with their ReplicaSets and Running pods with an istio-proxy sidecar.
// Prints figures, asserts nothing.
//   sync:      `kubectl smh sync` from empty (the CLI, spawned) vs `kubectl apply --server-side` of the same objects,
//              then no-op syncs: wall time and the requests they send (kube-apiserver's apiserver_request_total)
//   discovery: readClusterObjects of the three clusters in parallel with the registered credentials, as sync does
//              (a child process that does only that: time, objects, pages, peak RSS and heap), then discoverCluster
// Usage (after npm run build): node bench/sync.js [sync] [discovery] [--scale 1|1/3|1/10] [--rounds 5]
//   (or BENCH_SYNC_SCALE=1/3). Full scale: 1,000 services and 3,000 pods per cluster, 300 policies, 20 failovers.
import {spawn} from 'node:child_process'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Agent, request} from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {machineLoad, median, since as seconds, withControlPlanes} from './support.js'
import {CLUSTERS, SCALES, resources} from './translate.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const self = fileURLToPath(import.meta.url)
const MGMT = 'kind1'
const RUN_JS = join(root, 'bin', 'run.js')
/** Requests in flight while seeding (setup, not measured). */
const SEED_CONCURRENCY = 16
const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=kubectl-smh'

const fmtS = (s) => `${s.toFixed(2)} s`
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`

// ---------------------------------------------------------------------------------------------------------------
// A minimal HTTPS client for the admin identity of the control planes' kubeconfig (JSON): seeding, metrics, cleanup.

function adminClients(kubeconfigPath) {
  const kc = JSON.parse(readFileSync(kubeconfigPath, 'utf8'))
  const clients = {}
  for (const ctx of kc.contexts) {
    const cluster = kc.clusters.find((c) => c.name === ctx.context.cluster).cluster
    const token = kc.users.find((u) => u.name === ctx.context.user).user.token
    const agent = new Agent({keepAlive: true, maxSockets: SEED_CONCURRENCY, ca: Buffer.from(cluster['certificate-authority-data'], 'base64')})
    const url = new URL(cluster.server)
    clients[ctx.name] = {
      agent,
      call(method, path, body, contentType = 'application/json') {
        return new Promise((resolve, reject) => {
          const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
          const req = request({host: url.hostname, port: url.port, path, method, agent, headers: {
            authorization: `Bearer ${token}`, accept: 'application/json',
            ...(payload ? {'content-type': contentType, 'content-length': Buffer.byteLength(payload)} : {}),
          }}, (res) => {
            const chunks = []
            res.on('data', (c) => chunks.push(c))
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8')
              if (res.statusCode >= 300) reject(new Error(`${ctx.name}: ${method} ${path}: ${res.statusCode} ${text.slice(0, 400)}`))
              else resolve(res.headers['content-type']?.includes('json') ? JSON.parse(text) : text)
            })
          })
          req.on('error', reject)
          if (payload) req.write(payload)
          req.end()
        })
      },
    }
  }
  return clients
}

/** Runs fn over items with at most `limit` at once. */
async function pool(items, limit, fn) {
  let next = 0
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

// ---------------------------------------------------------------------------------------------------------------
// The seed: what bench/translate.js's discovered() describes, as objects a live cluster holds.

const PILOT_IMAGE = 'docker.io/istio/pilot:1.30.3'
const PROXY_IMAGE = 'docker.io/istio/proxyv2:1.30.3'
const REPLICAS = {v1: 2, v2: 1}
const T0 = '2026-01-01T00:00:00Z'

const paths = {
  Service: (ns) => `/api/v1/namespaces/${ns}/services`,
  ConfigMap: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
  Pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  ReplicaSet: (ns) => `/apis/apps/v1/namespaces/${ns}/replicasets`,
}

/**
 * One unit of seeding: a chain of requests that depend on each other (a Deployment, then its ReplicaSet with the
 * Deployment's uid as owner, then its pods), each object created and then given its status (no kubelet, no
 * controller here). Units run SEED_CONCURRENCY at a time, so that many requests are in flight.
 */
function workloadUnit(c, cluster, w, ips) {
  return async (client) => {
    const create = async (kind, object) => client.call('POST', `${paths[kind](w.namespace)}?fieldManager=bench-seed`, object)
    const status = async (kind, name, value) => client.call('PATCH', `${paths[kind](w.namespace)}/${name}/status`, {status: value}, 'application/merge-patch+json')
    const templateLabels = w.sidecar
      ? {...w.labels, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': w.labels.app, 'service.istio.io/canonical-revision': w.labels.version}
      : w.labels
    const hash = (w.hash ??= Math.abs([...`${cluster}/${w.name}`].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) | 0, 7)).toString(36).padStart(8, 'b').slice(0, 8).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)]))
    const containers = w.containers.map((x) => ({name: x.name, image: x.image, ports: x.ports.map((p) => ({containerPort: p}))}))
    const template = {metadata: {labels: templateLabels}, spec: {serviceAccountName: w.serviceAccount, containers}}
    const ready = {replicas: w.replicas, readyReplicas: w.replicas, availableReplicas: w.replicas, updatedReplicas: w.replicas, observedGeneration: 1}
    const deployment = await create('Deployment', {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: w.name, namespace: w.namespace, labels: w.labels},
      spec: {replicas: w.replicas, selector: {matchLabels: w.labels}, template}})
    await status('Deployment', w.name, ready)
    const podLabels = {...templateLabels, 'pod-template-hash': hash}
    const rsName = `${w.name}-${hash}`
    const rs = await create('ReplicaSet', {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: rsName, namespace: w.namespace, labels: podLabels,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true}]},
    spec: {replicas: w.replicas, selector: {matchLabels: {...w.labels, 'pod-template-hash': hash}}, template: {...template, metadata: {labels: podLabels}}}})
    await status('ReplicaSet', rsName, {replicas: w.replicas, readyReplicas: w.replicas, availableReplicas: w.replicas, fullyLabeledReplicas: w.replicas, observedGeneration: 1})
    // Istio's injector adds the sidecar to pods, not to the Deployment's template.
    const podContainers = w.sidecar ? [...containers, {name: 'istio-proxy', image: PROXY_IMAGE, args: ['proxy', 'sidecar']}] : containers
    for (let r = 0; r < w.replicas; r++) {
      const podName = `${rsName}-${'bcdfg'[r]}${hash.slice(0, 4)}`
      const ip = ips.next()
      await create('Pod', {apiVersion: 'v1', kind: 'Pod', metadata: {name: podName, namespace: w.namespace, labels: podLabels,
        ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true}]},
      spec: {...template.spec, containers: podContainers}})
      await status('Pod', podName, {
        phase: 'Running', podIP: ip, podIPs: [{ip}], hostIP: `198.51.100.${c + 2}`, startTime: T0,
        conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({type, status: 'True', lastTransitionTime: T0})),
        containerStatuses: podContainers.map((x) => ({name: x.name, image: x.image, imageID: '', ready: true, started: true, restartCount: 0, state: {running: {startedAt: T0}}})),
      })
    }
  }
}

/** Seeds the three workload clusters; returns the number of objects and requests per cluster. */
async function seed(clients, servicesPerCluster) {
  const units = []
  let requests = 0
  let objects = 0
  let pods = 0
  for (const [c, cluster] of CLUSTERS.entries()) {
    const client = clients[cluster]
    let n = 0
    const ips = {next: () => `10.${244 + c}.${Math.floor(n / 250)}.${(n++ % 250) + 2}`}
    // The Istio control plane first (namespace, mesh config, gateway Service with its address), in order.
    const setup = async () => {
      await client.call('POST', '/api/v1/namespaces?fieldManager=bench-seed', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'istio-system'}})
      await client.call('POST', `${paths.ConfigMap('istio-system')}?fieldManager=bench-seed`, {apiVersion: 'v1', kind: 'ConfigMap',
        metadata: {name: 'istio', namespace: 'istio-system', labels: {'istio.io/rev': 'default'}},
        data: {mesh: `defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ntrustDomain: ${cluster}\n`, meshNetworks: 'networks: {}\n'}})
      await client.call('POST', `${paths.Service('istio-system')}?fieldManager=bench-seed`, {apiVersion: 'v1', kind: 'Service', metadata: {name: 'istiod', namespace: 'istio-system', labels: {app: 'istiod'}},
        spec: {selector: {app: 'istiod', istio: 'pilot'}, ports: [{name: 'grpc-xds', port: 15010}, {name: 'https-dns', port: 15012}, {name: 'https-webhook', port: 443, targetPort: 15017}]}})
      await client.call('POST', `${paths.Service('istio-system')}?fieldManager=bench-seed`, {apiVersion: 'v1', kind: 'Service',
        metadata: {name: 'istio-eastwestgateway', namespace: 'istio-system', labels: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'}},
        spec: {type: 'LoadBalancer', selector: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'},
          ports: [{name: 'status-port', port: 15021}, {name: 'tls', port: 15443}, {name: 'tls-istiod', port: 15012}]}})
      await client.call('PATCH', `${paths.Service('istio-system')}/istio-eastwestgateway/status`, {status: {loadBalancer: {ingress: [{ip: `172.18.0.${c + 2}`}]}}}, 'application/merge-patch+json')
      await workloadUnit(c, cluster, {namespace: 'istio-system', name: 'istiod', labels: {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}, serviceAccount: 'istiod', replicas: 1,
        containers: [{name: 'discovery', image: PILOT_IMAGE, ports: [8080, 15010, 15017]}], sidecar: false}, ips)(client)
      await workloadUnit(c, cluster, {namespace: 'istio-system', name: 'istio-eastwestgateway', labels: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'}, serviceAccount: 'istio-eastwestgateway-service-account', replicas: 1,
        containers: [{name: 'istio-proxy', image: PROXY_IMAGE, ports: [15021, 15443, 15012]}], sidecar: false}, ips)(client)
    }
    requests += 5 + 2 * 6
    objects += 4 + 2 * 3
    pods += 2
    units.push({client, run: setup, first: true})
    for (let i = 0; i < servicesPerCluster; i++) {
      const app = `svc-${i}`
      units.push({client, run: () => client.call('POST', `${paths.Service('default')}?fieldManager=bench-seed`, {apiVersion: 'v1', kind: 'Service', metadata: {name: app, namespace: 'default', labels: {app}},
        spec: {selector: {app}, ports: [{name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP'}]}})})
      requests += 1
      objects += 1
      for (const version of ['v1', 'v2']) {
        const replicas = REPLICAS[version]
        const unit = workloadUnit(c, cluster, {namespace: 'default', name: `${app}-${version}`, labels: {app, version}, serviceAccount: app, replicas,
          containers: [{name: app, image: `docker.io/example/${app}-${version}:1.0`, ports: [8080]}], sidecar: true}, ips)
        units.push({client, run: () => unit(client)})
        requests += 4 + 2 * replicas
        objects += 2 + replicas
        pods += replicas
      }
    }
  }
  // The control planes first (the namespace must exist), then everything else, interleaved across clusters.
  await Promise.all(units.filter((u) => u.first).map((u) => u.run()))
  const rest = units.filter((u) => !u.first)
  const byCluster = CLUSTERS.map((cl) => rest.filter((u) => u.client === clients[cl]))
  const interleaved = []
  for (let i = 0; i < byCluster[0].length; i++) for (const list of byCluster) interleaved.push(list[i])
  await pool(interleaved, SEED_CONCURRENCY, (u) => u.run())
  return {requests, objects, pods}
}

// ---------------------------------------------------------------------------------------------------------------
// Processes: the CLI as a user runs it, and the built kubectl.

function run(command, args, env = {}, {input} = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(command, args, {cwd: root, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const result = {code, stdout, stderr, seconds: seconds(start)}
      if (code !== 0) reject(Object.assign(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`), result))
      else resolve(result)
    })
    child.stdin.end(input ?? '')
  })
}

const COUNT_CONNECTIONS = join(root, 'bench', 'count-connections.js')
let connectionsFile = join(tmpdir(), `smh-bench-connections-${process.pid}`)

/** The CLI as a user runs it; with the TLS connections it opened (counted by a preloaded module). */
async function smh(kubeconfig, args, nodeArgs = []) {
  rmSync(connectionsFile, {force: true})
  // BENCH_SYNC_PRELOAD: one more module to preload into the CLI (experiments, e.g. connection reuse).
  const extra = process.env.BENCH_SYNC_PRELOAD ? ['--import', pathToFileURL(process.env.BENCH_SYNC_PRELOAD).href] : []
  const result = await run(process.execPath, [...nodeArgs, '--import', pathToFileURL(COUNT_CONNECTIONS).href, ...extra, RUN_JS, ...args], {KUBECONFIG: kubeconfig, BENCH_CONNECTIONS_FILE: connectionsFile})
  const counted = JSON.parse(readFileSync(connectionsFile, 'utf8'))
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0)
  return {...result, connections: sum(counted.connections), perServer: counted.connections, requests: counted.requests, requestCount: sum(counted.requests), maxRss: counted.maxRss}
}

async function kubectlPath() {
  const {binaryPath} = await import('../dist/controlplane/binaries.js')
  return binaryPath('kubectl')
}

// ---------------------------------------------------------------------------------------------------------------
// Request counts: kube-apiserver's own apiserver_request_total (no user label: background requests of the API
// servers themselves, e.g. their identity leases, show up too; an idle interval of the same length says which).

async function requestTotals(clients) {
  const totals = {}
  await Promise.all(Object.entries(clients).map(async ([name, client]) => {
    const text = await client.call('GET', '/metrics')
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue
      const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
      const value = Number(line.slice(line.lastIndexOf(' ') + 1))
      const key = `${name}|${labels.verb}|${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}|${labels.code}`
      totals[key] = (totals[key] ?? 0) + value
    }
  }))
  return totals
}

function delta(before, after) {
  const out = []
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0)
    if (d > 0) {
      const [cluster, verb, resource, code] = key.split('|')
      out.push({cluster, verb, resource, code, count: d})
    }
  }
  return out
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'APPLY', 'CREATE', 'UPDATE'])
/**
 * The /metrics reads of the bench itself are not the CLI's; nor are GET /openapi/v3 and WATCH (the API servers' own
 * informers re-watching: the idle interval has them too, and the CLI never watches).
 */
const notOurs = (r) => !(r.verb === 'WATCH' || (r.verb === 'GET' && (r.resource === '' || r.resource.startsWith('/openapi'))))

function byVerb(rows) {
  const out = {}
  for (const r of rows.filter(notOurs)) out[r.verb] = (out[r.verb] ?? 0) + r.count
  return out
}

// ---------------------------------------------------------------------------------------------------------------

const MANAGED_KINDS = [
  ['networking.istio.io/v1beta1', 'gateways'], ['networking.istio.io/v1beta1', 'serviceentries'], ['networking.istio.io/v1beta1', 'destinationrules'],
  ['networking.istio.io/v1beta1', 'virtualservices'], ['networking.istio.io/v1alpha3', 'envoyfilters'], ['security.istio.io/v1beta1', 'authorizationpolicies'],
]

/** Every object kubectl-smh generated in a cluster, as it would be applied: identity, labels, annotations, spec. */
async function generatedObjects(client) {
  const out = []
  for (const [apiVersion, resource] of MANAGED_KINDS) {
    let cont = ''
    do {
      const page = await client.call('GET', `/apis/${apiVersion}/${resource}?labelSelector=${encodeURIComponent(MANAGED_SELECTOR)}&limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)
      for (const o of page.items) {
        out.push({apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? page.kind.replace(/List$/, ''),
          metadata: {name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels, annotations: o.metadata.annotations}, spec: o.spec})
      }
      cont = page.metadata?.continue
    } while (cont)
  }
  return out
}

/** Removes every generated object (one deletecollection per kind and namespace) and waits until none is left. */
async function deleteGenerated(client, namespaces) {
  for (const [apiVersion, resource] of MANAGED_KINDS) {
    for (const ns of namespaces) await client.call('DELETE', `/apis/${apiVersion}/namespaces/${ns}/${resource}?labelSelector=${encodeURIComponent(MANAGED_SELECTOR)}`)
  }
  for (;;) {
    if ((await generatedObjects(client)).length === 0) return
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function benchSync(ctx) {
  const {kubeconfig, clients, scale, dir} = ctx
  const kubectl = await kubectlPath()
  const counts = (json) => JSON.parse(json).clusters.map((c) => `${c.name} ${c.result}: ${Object.entries(c.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('; ')

  // (a) sync from empty: everything is a create.
  const first = await smh(kubeconfig, ['sync', '-o', 'json'])
  const firstResult = JSON.parse(first.stdout)
  const created = firstResult.clusters.reduce((n, c) => n + c.counts.create, 0)

  // (c) no-op syncs right after: time, and the requests they send (idle interval of the same length first).
  const noop = []
  let noopRequests
  let noopCounts
  let noopConnections
  let noopPerServer
  let noopClient
  let noopRss
  for (let i = 0; i < 3; i++) {
    const before = await requestTotals(clients)
    const r = await smh(kubeconfig, ['sync', '-o', 'json'])
    const after = await requestTotals(clients)
    noop.push(r.seconds)
    if (i === 0) {
      noopRequests = delta(before, after)
      noopCounts = counts(r.stdout)
      noopConnections = r.connections
      noopPerServer = r.perServer
      noopClient = r.requests
      noopRss = r.maxRss
    }
  }
  // What the API servers do by themselves meanwhile (identity-lease heartbeats every 10 s): an idle interval.
  const IDLE_SECONDS = 10.5
  const idleBefore = await requestTotals(clients)
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000))
  const idle = delta(idleBefore, await requestTotals(clients))

  // (b) the same objects with kubectl apply --server-side, into the same state (sync's objects deleted first).
  const files = {}
  let dumped = 0
  for (const cluster of CLUSTERS) {
    const objects = await generatedObjects(clients[cluster])
    dumped += objects.length
    files[cluster] = join(dir, `${cluster}.json`)
    writeFileSync(files[cluster], JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}))
  }
  const resetGenerated = () => Promise.all(CLUSTERS.map((c) => deleteGenerated(clients[c], ['default', 'istio-system'])))
  const apply = (cluster) => run(kubectl, ['--kubeconfig', kubeconfig, '--context', cluster, 'apply', '--server-side', '--field-manager=bench', '-f', files[cluster]])
  await resetGenerated()
  const kubectlSeqStart = process.hrtime.bigint()
  const perCluster = []
  for (const cluster of CLUSTERS) perCluster.push((await apply(cluster)).seconds)
  const kubectlSeq = seconds(kubectlSeqStart)
  await resetGenerated()
  const kubectlParStart = process.hrtime.bigint()
  await Promise.all(CLUSTERS.map(apply))
  const kubectlPar = seconds(kubectlParStart)

  console.log(`sync vs kubectl apply --server-side (scale ${scale.label}: ${scale.services} services/cluster, ${ctx.seeded.pods / 3} pods/cluster; ${scale.policies} TrafficPolicies, ${scale.failovers} FailoverServices (+${scale.failovers} outlier policies), 1 VirtualMesh)`)
  console.log(`  objects written: sync created ${created} (${counts(first.stdout)}); kubectl applies the ${dumped} objects sync made, one file per cluster`)
  console.log(`  (a) kubectl smh sync, from empty (CLI end to end)      ${fmtS(first.seconds)}  (${first.requestCount} HTTPS requests, ${first.connections} TLS connections opened; CLI max RSS ${mb(first.maxRss)})`)
  console.log(`  (b) kubectl apply --server-side, cluster after cluster ${fmtS(kubectlSeq)}  (${CLUSTERS.map((c, i) => `${c} ${fmtS(perCluster[i])}`).join(', ')})`)
  console.log(`      kubectl apply --server-side, 3 clusters at once    ${fmtS(kubectlPar)}  (for reference)`)
  console.log(`  ratio sync / kubectl (cluster after cluster)           ${(first.seconds / kubectlSeq).toFixed(2)}  (target <= 0.5); against 3 at once ${(first.seconds / kubectlPar).toFixed(2)}`)
  console.log(`  (c) no-op kubectl smh sync (3 runs): median ${fmtS(median(noop))} (${noop.map((s) => s.toFixed(2)).join(', ')}); CLI max RSS ${mb(noopRss)}; plan: ${noopCounts}`)
  const verbs = byVerb(noopRequests)
  console.log(`      requests to the 4 API servers (apiserver_request_total), by verb: ${Object.entries(verbs).sort().map(([v, n]) => `${v} ${n}`).join(', ')}; ${noopConnections} TLS connections opened`)
  const clientVerbs = {}
  let discoveryGets = 0
  for (const [key, n] of Object.entries(noopClient)) {
    const [method, , path] = key.split(' ')
    clientVerbs[method] = (clientVerbs[method] ?? 0) + n
    // API discovery (/api/v1, /apis/<group>/<version>): the server does not count these in apiserver_request_total.
    if (/^\/apis?(\/[^/]+){0,2}$/.test(path) && !/^\/api\/v1\/[^/]+$/.test(path)) discoveryGets += n
  }
  console.log(`      counted in the CLI's process: ${Object.entries(clientVerbs).sort().map(([v, n]) => `${v} ${n}`).join(', ')} HTTPS requests, of which ${discoveryGets} API discovery GETs (/api/v1, /apis/<group>/<version>)`)
  const reads = {}
  for (const r of noopRequests.filter((x) => notOurs(x) && !WRITE_VERBS.has(x.verb))) reads[`${r.verb} ${r.resource}`] = (reads[`${r.verb} ${r.resource}`] ?? 0) + r.count
  console.log(`      reads: ${Object.entries(reads).sort().map(([k, n]) => `${k} ${n}`).join(', ')}`)
  // PUT leases: each API server renews its own identity lease every 10 s; the CLI never writes leases.
  const heartbeat = (r) => r.verb === 'PUT' && r.resource === 'leases'
  const writes = noopRequests.filter((r) => WRITE_VERBS.has(r.verb) && !heartbeat(r))
  const heartbeats = noopRequests.filter(heartbeat).reduce((n, r) => n + r.count, 0)
  console.log(`      writes: ${writes.length ? writes.map((r) => `${r.cluster} ${r.verb} ${r.resource} (${r.code}) ×${r.count}`).join('; ') : 'none'}`
    + ` (besides ${heartbeats} PUT leases: the API servers' own identity-lease heartbeats)`)
  const perCluster2 = {}
  for (const r of noopRequests.filter(notOurs)) perCluster2[r.cluster] = (perCluster2[r.cluster] ?? 0) + r.count
  const port = (cluster) => `127.0.0.1:${new URL(ctx.servers[cluster]).port}`
  console.log(`      per API server, requests / TLS connections: ${Object.entries(perCluster2).sort().map(([c, n]) => `${c} ${n} / ${noopPerServer[port(c)] ?? 0}`).join(', ')}`)
  console.log(`      background of the API servers themselves, idle ${fmtS(IDLE_SECONDS)}: ${idle.length ? idle.map((r) => `${r.cluster} ${r.verb} ${r.resource} ×${r.count}`).sort().join(', ') : 'none'}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Discovery, in a child process that does only that.

async function discoveryChild(kubeconfig, rounds) {
  const {loadKubeconfig} = await import('../dist/kube/kubeconfig.js')
  const {ClusterClient} = await import('../dist/kube/client.js')
  const {readRegisteredClusters} = await import('../dist/kube/registry.js')
  const {readClusterObjects} = await import('../dist/kube/snapshot.js')
  const {discoverCluster} = await import('../dist/discovery/discover.js')
  let peakHeap = 0
  let peakRss = 0
  const sample = () => {
    const m = process.memoryUsage()
    peakHeap = Math.max(peakHeap, m.heapUsed)
    peakRss = Math.max(peakRss, m.rss)
  }
  const timer = setInterval(sample, 5)
  globalThis.gc?.()
  sample()
  const baseline = {rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, maxRss: process.resourceUsage().maxRSS * 1024}
  const mgmt = ClusterClient.forContext(loadKubeconfig({kubeconfig}), MGMT)
  const registry = await readRegisteredClusters(mgmt, mgmt.options)
  let pages = 0
  for (const cluster of registry.clusters) {
    const list = cluster.client.objects.list.bind(cluster.client.objects)
    cluster.client.objects.list = (...args) => {
      pages++
      return list(...args)
    }
  }
  const results = []
  for (let round = 0; round < rounds; round++) {
    globalThis.gc?.()
    peakHeap = 0
    peakRss = 0
    pages = 0
    const start = process.hrtime.bigint()
    const snapshots = {}
    await Promise.all(registry.clusters.map(async (c) => (snapshots[c.name] = await readClusterObjects(c.client))))
    const readSeconds = seconds(start)
    sample()
    const discoverStart = process.hrtime.bigint()
    const discovered = registry.clusters.map((c) => discoverCluster(c.name, snapshots[c.name]))
    const discoverSeconds = seconds(discoverStart)
    sample()
    const objects = Object.values(snapshots).reduce((n, l) => n + l.length, 0)
    const byKind = {}
    for (const l of Object.values(snapshots)) for (const o of l) byKind[o.kind] = (byKind[o.kind] ?? 0) + 1
    results.push({readSeconds, discoverSeconds, objects, byKind, pages, peakHeap, peakRss, maxRss: process.resourceUsage().maxRSS * 1024,
      services: discovered.reduce((n, d) => n + d.services.length, 0), workloads: discovered.reduce((n, d) => n + d.workloads.length, 0), meshes: discovered.reduce((n, d) => n + d.meshes.length, 0)})
  }
  clearInterval(timer)
  return {baseline, results, clusters: registry.clusters.map((c) => c.name)}
}

async function benchDiscovery(ctx, rounds) {
  const out = await run(process.execPath, ['--expose-gc', self, '--discovery-child', ctx.kubeconfig, String(rounds)])
  const {baseline, results, clusters} = JSON.parse(out.stdout)
  const r0 = results[0]
  const med = (key) => median(results.map((r) => r[key]))
  console.log(`live discovery: readClusterObjects of ${clusters.join(', ')} at once with the registered credentials (as sync), ${rounds} rounds in one child process`)
  console.log(`  read: ${r0.objects} objects (${Object.entries(r0.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), ${r0.pages} list pages`)
  console.log(`  read wall time: median ${fmtS(med('readSeconds'))} (${results.map((r) => r.readSeconds.toFixed(2)).join(', ')})`)
  console.log(`  discoverCluster ×3 on what was read: median ${(med('discoverSeconds') * 1000).toFixed(0)} ms (${results.map((r) => (r.discoverSeconds * 1000).toFixed(0)).join(', ')}); found ${r0.meshes} meshes, ${r0.workloads} workloads, ${r0.services} services`)
  console.log(`  memory: RSS ${mb(baseline.rss)} before; peak RSS (sampled every 5 ms) first round ${mb(r0.peakRss)}, max ${mb(Math.max(...results.map((r) => r.peakRss)))}; process max RSS (getrusage) ${mb(results.at(-1).maxRss)}`)
  console.log(`          heap used ${mb(baseline.heap)} before; peak heap used (sampled) median ${mb(med('peakHeap'))}, max ${mb(Math.max(...results.map((r) => r.peakHeap)))}`)
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const args = process.argv.slice(2)
  const flag = (name, fallback) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : fallback
  }
  const scaleLabel = flag('--scale', process.env.BENCH_SYNC_SCALE ?? '1')
  const rounds = Number(flag('--rounds', '5'))
  const scale = SCALES.find((s) => s.label === scaleLabel)
  if (!scale) throw new Error(`--scale ${scaleLabel}: one of ${SCALES.map((s) => s.label).join(', ')}`)
  const sections = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'))
  const wanted = (name) => sections.length === 0 || sections.includes(name)

  const total = process.hrtime.bigint()
  const load0 = machineLoad()
  let start = process.hrtime.bigint()
  await withControlPlanes('sync', [MGMT, ...CLUSTERS], async (plane, dir) => {
    connectionsFile = join(dir, 'connections')
    const kubeconfig = plane.state.kubeconfig
    const clients = adminClients(kubeconfig)
    const startup = seconds(start)
    start = process.hrtime.bigint()
    const seeded = await seed(clients, scale.services)
    const seedSeconds = seconds(start)
    console.log(`setup (not measured): 4 control planes started in ${fmtS(startup)}; seeded ${CLUSTERS.length} clusters with ${seeded.objects} objects (${seeded.pods} pods) in ${fmtS(seedSeconds)}`
      + ` (${seeded.requests} requests, ${SEED_CONCURRENCY} in flight, ${(seeded.requests / seedSeconds).toFixed(0)}/s)`)

    start = process.hrtime.bigint()
    await smh(kubeconfig, ['install'])
    const installSeconds = seconds(start)
    const registerSeconds = []
    for (const cluster of CLUSTERS) registerSeconds.push((await smh(kubeconfig, ['register', 'cluster', cluster, '--remote-context', cluster])).seconds)
    const smhFile = join(dir, 'smh.json')
    const smhResources = resources(scale.services, scale.policies, scale.failovers)
    writeFileSync(smhFile, JSON.stringify({apiVersion: 'v1', kind: 'List', items: smhResources}))
    start = process.hrtime.bigint()
    await run(await kubectlPath(), ['--kubeconfig', kubeconfig, '--context', MGMT, 'apply', '--server-side', '-f', smhFile])
    console.log(`  install ${fmtS(installSeconds)}; register cluster ${CLUSTERS.map((c, i) => `${c} ${fmtS(registerSeconds[i])}`).join(', ')} (each reads its cluster);`
      + ` ${smhResources.length} SMH resources written with kubectl apply --server-side in ${fmtS(seconds(start))}`)
    const servers = Object.fromEntries(plane.state.clusters.map((c) => [c.name, c.server]))
    const ctx = {kubeconfig, clients, scale, dir, seeded, servers}
    if (wanted('sync')) {
      start = process.hrtime.bigint()
      await benchSync(ctx)
      console.log(`  (sync benchmark took ${fmtS(seconds(start))})`)
    }
    if (wanted('discovery')) {
      start = process.hrtime.bigint()
      await benchDiscovery(ctx, rounds)
      console.log(`  (discovery benchmark took ${fmtS(seconds(start))})`)
    }
    for (const c of Object.values(clients)) c.agent.destroy()
  })
  console.log(`  (total with setup and teardown ${fmtS(seconds(total))}; at the start ${load0}, at the end ${machineLoad()})`)
}

export {adminClients, deleteGenerated, generatedObjects, requestTotals, delta, seed, smh}

if (process.argv[1] === self) {
  if (process.argv[2] === '--discovery-child') process.stdout.write(JSON.stringify(await discoveryChild(process.argv[3], Number(process.argv[4]))))
  else await main()
}
