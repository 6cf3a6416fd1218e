#!/usr/bin/env node
// Benchmark of shared trust (issue 8, "create virtualmesh over 2 and 10 meshes"): `create virtualmesh` (its service,
// so the whole verb: read, discover, write the VirtualMesh, sync with its trust step) on real local control planes,
// RSA 4096 (Service Mesh Hub's default) and ECDSA P-256. Prints figures, asserts nothing.
//
// Clusters: kind1 (management) + mesh-a, mesh-b, each with MESHES_PER_CLUSTER Istio control planes in namespaces
// istio-1..istio-5 (an istiod Deployment and its `istio` mesh ConfigMap with its own trust domain: discovery finds
// one mesh per istiod, and the trust step writes one `cacerts` per Istio namespace). 2 meshes = istio-1 of each
// cluster; 10 meshes = all of them.
//
// The measured call is createVirtualMesh() below: the `create virtualmesh` service, with the clusters installed and
// registered beforehand (not measured). Per (algorithm, size) and round:
//   from nothing       no root, no cacerts: the root is generated and stored, then each mesh's intermediate issued
//                      and written (meshes in parallel, as syncTrust does)
//   intermediates only the root in place, every cacerts deleted: N intermediates issued and written
//   root               from nothing − intermediates only, per round (generate the root key, self-sign, write the
//                      Secret; noisy: the two runs' mesh keys take different times)
//   key generation     in both runs, every WebCrypto generateKey the step makes is timed (wrapped in this process):
//                      the wall time during which at least one key was being generated, and its share of the run
// Usage (after npm run build): node bench/trust.js [--rounds 3] [--sizes 2,10] [--algorithms rsa,ecdsa]
import {webcrypto} from 'node:crypto'
import {fileURLToPath} from 'node:url'

import {machineLoad, median, since as seconds, withControlPlanes} from './support.js'

const self = fileURLToPath(import.meta.url)
const MGMT = 'kind1'
const WORKLOAD_CLUSTERS = ['mesh-a', 'mesh-b']
const MESHES_PER_CLUSTER = 5
const SMH_NAMESPACE = 'service-mesh-hub'
const VM_NAME = 'bench-vm'
const GENERATED_ROOT = `${VM_NAME}.${SMH_NAMESPACE}`
const PILOT_IMAGE = 'docker.io/istio/pilot:1.30.3'

const time = async (fn) => {
  const start = process.hrtime.bigint()
  const value = await fn()
  return {seconds: seconds(start), value}
}
const fmtS = (s) => `${s.toFixed(2)} s`
const fmt = (s) => (Math.abs(s) < 1 ? `${(s * 1000).toFixed(0)} ms` : fmtS(s))
const secretRef = (namespace, name) => ({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})

/** One Istio control plane as discovery sees it: namespace, mesh ConfigMap (trust domain), istiod Deployment. */
function istioObjects(namespace, trustDomain) {
  const labels = {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}
  return [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}},
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {namespace, name: 'istio', labels: {'istio.io/rev': 'default'}},
      data: {mesh: `trustDomain: ${trustDomain}\n`, meshNetworks: 'networks: {}\n'}},
    {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {namespace, name: 'istiod', labels},
      spec: {replicas: 1, selector: {matchLabels: {app: 'istiod', istio: 'pilot'}},
        template: {metadata: {labels}, spec: {serviceAccountName: 'istiod', containers: [{name: 'discovery', image: PILOT_IMAGE}]}}}},
  ]
}

const ALGORITHM_LABEL = {rsa: 'RSA 4096', ecdsa: 'ECDSA P-256'}

/**
 * THE MEASURED CALL: `kubectl smh create virtualmesh` over `meshes`, through its service (the command is flags → this
 * call → render): read and discover the registered clusters, write the VirtualMesh, sync — whose trust step makes
 * the root (RSA 4096 as Service Mesh Hub, or ECDSA P-256 with --ca-key-algorithm ecdsa) and one intermediate per mesh,
 * written as cacerts, besides the federation objects.
 */
async function createVirtualMesh(ctx, meshes, algorithm) {
  const result = await ctx.lib.createVirtualMesh({mgmt: ctx.mgmt, name: VM_NAME, mesh: meshes.map((m) => m.name), caKeyAlgorithm: algorithm})
  const trust = result.sync?.trust?.find((t) => t.virtualMesh === `VirtualMesh/${SMH_NAMESPACE}/${VM_NAME}`)
  const failed = result.sync?.clusters.filter((c) => c.result === 'failed') ?? []
  if (!trust || trust.error || failed.length || trust.meshes.some((m) => m.action === 'failed')) {
    throw new Error(`create virtualmesh failed: ${trust?.error ?? ''} ${failed.map((c) => `${c.name}: ${c.error}`).join('; ')} ${trust?.meshes.flatMap((m) => m.errors ?? []).join('; ') ?? 'no trust step'}`)
  }
  return trust
}

/** Between rounds (not measured): the VirtualMesh deleted and synced away, which removes its cacerts and its root. */
async function deleteVirtualMesh(ctx) {
  await ctx.lib.deleteResource(ctx.mgmt, 'virtualmesh', VM_NAME).catch((error) => {
    if (!/not found|no VirtualMesh/i.test(String(error?.message))) throw error
  })
}

async function deleteCacerts(ctx, meshes) {
  await Promise.all(meshes.map((m) => ctx.clients.get(m.cluster).deleteIfExists(secretRef(m.installationNamespace, 'cacerts'))))
}
async function deleteRoots(ctx) {
  await ctx.mgmt.deleteIfExists(secretRef(SMH_NAMESPACE, GENERATED_ROOT))
}

/**
 * Times every WebCrypto generateKey while fn runs (src/trust/ca.ts calls webcrypto.subtle.generateKey at call time,
 * so wrapping the method sees the trust step's own key generations): how many, and the wall time during which at
 * least one was running (the union of their intervals: meshes generate keys in parallel).
 */
async function withKeyGenTiming(fn) {
  const subtle = webcrypto.subtle
  const original = subtle.generateKey
  const intervals = []
  subtle.generateKey = async function (...args) {
    const start = Number(process.hrtime.bigint()) / 1e9
    try {
      return await original.apply(this, args)
    } finally {
      intervals.push([start, Number(process.hrtime.bigint()) / 1e9])
    }
  }
  try {
    const r = await time(fn)
    intervals.sort((a, b) => a[0] - b[0])
    let union = 0
    let end = -Infinity
    for (const [a, b] of intervals) {
      if (b <= end) continue
      union += b - Math.max(a, end)
      end = b
    }
    return {...r, keys: intervals.length, keyWall: union}
  } finally {
    subtle.generateKey = original
  }
}

async function benchOne(ctx, algorithm, meshes, rounds) {
  const n = meshes.length
  const full = []
  const intermediates = []
  for (let round = 0; round < rounds; round++) {
    await deleteVirtualMesh(ctx)
    await deleteRoots(ctx)
    await deleteCacerts(ctx, meshes)
    const a = await withKeyGenTiming(() => createVirtualMesh(ctx, meshes, algorithm))
    if (!a.value.meshes.every((m) => m.action === 'issued')) throw new Error('from nothing: every mesh should be issued')
    full.push(a)
    await deleteCacerts(ctx, meshes)
    const b = await withKeyGenTiming(() => createVirtualMesh(ctx, meshes, algorithm))
    if (b.value.rootCreated || !b.value.meshes.every((m) => m.action === 'issued')) throw new Error('intermediates only: the root should be kept')
    intermediates.push(b)
  }
  const f = median(full.map((r) => r.seconds))
  const i = median(intermediates.map((r) => r.seconds))
  const list = (rs) => rs.map((r) => fmt(r.seconds)).join(', ')
  const share = (rs) => `key generation ${rs.map((r) => `${fmt(r.keyWall)} = ${((r.keyWall / r.seconds) * 100).toFixed(0)}%`).join(', ')} (${rs[0].keys} keys)`
  console.log(`  ${ALGORITHM_LABEL[algorithm]}, ${n} meshes (${rounds} rounds, ${machineLoad()})`)
  console.log(`    from nothing (root + ${n} intermediates issued and written): median ${fmt(f)}, per mesh ${fmt(f / n)} (runs ${list(full)}; ${share(full)})`)
  console.log(`    intermediates only (root in place, ${n} issued and written): median ${fmt(i)}, per mesh ${fmt(i / n)} (runs ${list(intermediates)}; ${share(intermediates)})`)
  const rootRuns = full.map((r, k) => r.seconds - intermediates[k].seconds)
  console.log(`    root (generate, self-sign, store): from nothing − intermediates only, per round: median ${fmt(median(rootRuns))} (${rootRuns.map(fmt).join(', ')})`)
}

async function main() {
  const args = process.argv.slice(2)
  const flag = (name, fallback) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : fallback
  }
  const rounds = Number(flag('--rounds', '3'))
  const sizes = flag('--sizes', '2,10').split(',').map(Number)
  const algorithms = flag('--algorithms', 'rsa,ecdsa').split(',')
  for (const s of sizes) if (!(s >= 1 && s <= WORKLOAD_CLUSTERS.length * MESHES_PER_CLUSTER)) throw new Error(`--sizes: ${s} is not between 1 and ${WORKLOAD_CLUSTERS.length * MESHES_PER_CLUSTER}`)
  for (const a of algorithms) if (!ALGORITHM_LABEL[a]) throw new Error(`--algorithms: ${a} is not rsa or ecdsa`)

  const {loadKubeconfig} = await import('../dist/kube/kubeconfig.js')
  const {ClusterClient} = await import('../dist/kube/client.js')
  const {readClusterObjects} = await import('../dist/kube/snapshot.js')
  const {discoverCluster} = await import('../dist/discovery/discover.js')
  const {install} = await import('../dist/services/install.js')
  const {registerCluster} = await import('../dist/services/register.js')
  const {createVirtualMesh: createVirtualMeshService} = await import('../dist/services/verbs/create-virtualmesh.js')
  const {deleteResource} = await import('../dist/services/resources.js')

  const total = process.hrtime.bigint()
  const load0 = machineLoad()
  const start = process.hrtime.bigint()
  await withControlPlanes('trust', [MGMT, ...WORKLOAD_CLUSTERS], async (plane) => {
    const kc = loadKubeconfig({kubeconfig: plane.state.kubeconfig})
    const mgmt = ClusterClient.forContext(kc, MGMT)
    const clients = new Map(WORKLOAD_CLUSTERS.map((c) => [c, ClusterClient.forContext(kc, c)]))
    await install(mgmt)
    for (const cluster of WORKLOAD_CLUSTERS) {
      for (let i = 1; i <= MESHES_PER_CLUSTER; i++) {
        for (const o of istioObjects(`istio-${i}`, `${cluster}-${i}`)) await clients.get(cluster).apply(o)
      }
      // Registered as a user would, so the measured call reaches them with the stored identities.
      await registerCluster({kubeconfig: kc, mgmt, name: cluster, remoteContext: cluster, tokenDurationSeconds: 3600})
    }
    const discovered = []
    for (const cluster of WORKLOAD_CLUSTERS) discovered.push(...discoverCluster(cluster, await readClusterObjects(clients.get(cluster))).meshes)
    if (discovered.length !== WORKLOAD_CLUSTERS.length * MESHES_PER_CLUSTER) throw new Error(`discovery found ${discovered.length} meshes, expected ${WORKLOAD_CLUSTERS.length * MESHES_PER_CLUSTER}`)
    // Interleave the clusters, so any size spreads over both: istio-1 of mesh-a, istio-1 of mesh-b, istio-2 ...
    discovered.sort((a, b) => a.installationNamespace.localeCompare(b.installationNamespace, 'en', {numeric: true}) || a.cluster.localeCompare(b.cluster))
    console.log(`create virtualmesh over N meshes (setup, not measured: 3 control planes and ${discovered.length} Istio control planes in ${fmtS(seconds(start))};`
      + ` meshes spread over ${WORKLOAD_CLUSTERS.join(' and ')}, ${MESHES_PER_CLUSTER} Istio namespaces each)`)
    const ctx = {mgmt, clients, lib: {createVirtualMesh: createVirtualMeshService, deleteResource}}
    for (const algorithm of algorithms) {
      for (const n of sizes) await benchOne(ctx, algorithm, discovered.slice(0, n), rounds)
    }
    await deleteVirtualMesh(ctx)
  })
  console.log(`  (total with setup and teardown ${fmtS(seconds(total))}; at the start ${load0}, at the end ${machineLoad()})`)
}

if (process.argv[1] === self) await main()
