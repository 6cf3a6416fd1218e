#!/usr/bin/env node
// Federation at fleet scale (issue 11): N clusters × 1,000 services, 300 TrafficPolicies (1/3 outlier detection,
// 1/3 timeout + retries, 1/3 a 90/10 shift whose 10% goes to the next cluster) and 20 FailoverServices (each in
// one cluster's mesh, backed by its own service then the next cluster's), one VirtualMesh over all meshes, in each
// federation mode. Per mode: objects per cluster (max and median), what on-demand's target allows (local objects +
// 2 × remote services used), translate CPU time against JSON.stringify of its output, and peak RSS, each run in a
// fresh process. Never asserts. Run after `npm run build`: node bench/federation.js [CLUSTERS...] (default 3 12 50)
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const API = 'networking.smh.solo.io/v1alpha2'
const MODES = {permissive: {permissive: {}}, onDemand: {onDemand: {}}, none: {none: {}}}
const SERVICES = 1000
const POLICIES = 300
const FAILOVERS = 20

const clusterName = (c) => `cluster-${String(c).padStart(2, '0')}`

export function discovered(clusters, services) {
  return Array.from({length: clusters}, (_, c) => {
    const cluster = clusterName(c)
    const mesh = `istiod-istio-system-${cluster}`
    return {
      cluster,
      meshes: [{
        name: mesh, cluster, installationNamespace: 'istio-system', istiodName: 'istiod', version: '1.30.3', revision: 'default', trustDomain: cluster, istiodServiceAccount: 'istiod', podLabels: {app: 'istiod'},
        gateways: [{serviceName: 'istio-eastwestgateway', namespace: 'istio-system', workloadLabels: {istio: 'eastwestgateway'}, externalAddress: `172.18.${Math.floor(c / 250)}.${(c % 250) + 2}`, externalAddressIsHostname: false, externalTlsPort: 15443, tlsContainerPort: 15443, hasPassthroughServer: false}],
      }],
      workloads: [],
      services: Array.from({length: services}, (_, i) => ({
        name: `svc-${i}-default-${cluster}`, cluster, namespace: 'default', serviceName: `svc-${i}`, labels: {app: `svc-${i}`}, selector: {app: `svc-${i}`},
        ports: [{name: 'http', port: 8080, protocol: 'TCP'}], subsets: {version: ['v1', 'v2']}, mesh, workloads: [],
      })),
    }
  })
}

export function resources(clusters, services, mode) {
  const names = Array.from({length: clusters}, (_, c) => clusterName(c))
  const out = [{apiVersion: API, kind: 'VirtualMesh', metadata: {name: 'vm', namespace: 'service-mesh-hub'}, spec: {meshes: names.map((c) => ({name: `istiod-istio-system-${c}`})), federation: MODES[mode]}}]
  const ref = (i, c) => ({name: `svc-${i % services}`, namespace: 'default', clusterName: names[c % clusters]})
  for (let p = 0; p < POLICIES; p++) {
    const spec = {destinationSelector: [{kubeServiceRefs: {services: Array.from({length: 3}, (_, k) => ref(p * 3 + k, p + k))}}]}
    if (p % 3 === 0) spec.outlierDetection = {consecutiveErrors: 3}
    if (p % 3 === 1) Object.assign(spec, {requestTimeout: '2s', retries: {attempts: 3, perTryTimeout: '500ms'}, httpRequestMatchers: [{prefix: `/p${p}`}]})
    if (p % 3 === 2) {
      // One target, shifted 90% to its own v1 and 10% to the next cluster's v2.
      spec.destinationSelector = [{kubeServiceRefs: {services: [ref(p, p)]}}]
      spec.trafficShift = {destinations: [{kubeService: {...ref(p, p), subset: {version: 'v1'}}, weight: 90}, {kubeService: {...ref(p, p + 1), subset: {version: 'v2'}}, weight: 10}]}
    }
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `tp-${p}`, namespace: 'service-mesh-hub'}, spec})
  }
  for (let f = 0; f < FAILOVERS; f++) {
    const backing = [ref(f, f), ref(f, f + 1)]
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `fs-outlier-${f}`, namespace: 'service-mesh-hub'}, spec: {destinationSelector: [{kubeServiceRefs: {services: backing}}], outlierDetection: {consecutiveErrors: 3}}})
    out.push({apiVersion: API, kind: 'FailoverService', metadata: {name: `fs-${f}`, namespace: 'service-mesh-hub'}, spec: {hostname: `fs-${f}.default.global`, port: {number: 8080, protocol: 'http'}, meshes: [{name: `istiod-istio-system-${names[f % clusters]}`}], backingServices: backing.map((kubeService) => ({kubeService}))}})
  }
  return out
}

const cpu = (fn) => {
  const start = process.cpuUsage()
  const value = fn()
  const used = process.cpuUsage(start)
  return {value, ms: (used.user + used.system) / 1000}
}

async function measure(clusters, mode, runs) {
  const {translate} = await import('../dist/translate/index.js')
  const {estimateFederation} = await import('../dist/translate/estimate.js')
  // BENCH_VALIDATE=0: without the per-object schema check (what a 50-cluster permissive run can finish)
  const input = {resources: resources(clusters, SERVICES, mode), discovered: discovered(clusters, SERVICES), validate: process.env.BENCH_VALIDATE !== '0'}
  const samples = []
  let result
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.()
    const t = cpu(() => translate(input))
    samples.push(t.ms)
    result = t.value
  }
  const translateMs = samples.sort((a, b) => a - b)[Math.floor(runs / 2)]
  // Per cluster (what -o json and --output-dir write): one string of 50 clusters' permissive output is past V8's limit.
  const stringifyMs = cpu(() => Object.values(result.clusters).reduce((n, list) => n + JSON.stringify(list).length, 0)).ms
  const estimate = estimateFederation(result)
  const perCluster = estimate.map((e) => e.objects).sort((a, b) => a - b)
  // The target: on-demand objects per cluster <= local objects + 2 × remote services used there (the serving side's
  // passthrough Gateway counts as local: it is one per cluster).
  const overTarget = estimate.filter((e) => e.objects > (e.objects - e.federationObjects) + 1 + 2 * e.federatedServices).length
  const invalid = result.statuses.filter((s) => s.state !== 'ACCEPTED').length
  return {
    clusters, mode, objects: perCluster.reduce((a, b) => a + b, 0), maxPerCluster: perCluster.at(-1), medianPerCluster: perCluster[Math.floor(perCluster.length / 2)],
    remoteUsedMax: Math.max(...estimate.map((e) => e.federatedServices)), envoyPerSidecarMax: Math.max(...estimate.map((e) => e.envoyClustersPerSidecar)),
    overTarget, invalid, translateMs, stringifyMs, ratio: translateMs / stringifyMs, peakRssMB: process.resourceUsage().maxRSS / 1024,
  }
}

export function benchFederation(sizes = [3, 12, 50]) {
  const self = fileURLToPath(import.meta.url)
  console.log(`federation at fleet scale: N clusters × ${SERVICES} services, ${POLICIES} TrafficPolicies (1/3 shift 10% to the next cluster), ${FAILOVERS} FailoverServices; one VirtualMesh; validate ${process.env.BENCH_VALIDATE === '0' ? 'off (BENCH_VALIDATE=0)' : 'on (as the CLI)'}`)
  console.log('CPU ms: median of 3 runs (1 when over 20 s); ratio = translate / JSON.stringify(output); peak RSS of the process; target column: clusters over on-demand\'s bound')
  console.log('clusters  mode          objects  max/cluster  median/cluster  remote federated (max)  Envoy clusters/sidecar (max)  translate ms  stringify ms  ratio  peak RSS MB  over target')
  const rows = []
  for (const clusters of sizes) {
    for (const mode of Object.keys(MODES)) {
      let row
      try {
        const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=6144', self, '--child', String(clusters), mode], {encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 26})
        row = JSON.parse(out)
      } catch (error) {
        console.log(`${String(clusters).padStart(8)}  ${mode.padEnd(12)}  did not finish: ${String(error.message).split('\n')[0].slice(0, 160)}`)
        continue
      }
      rows.push(row)
      console.log([String(clusters).padStart(8), mode.padEnd(12), String(row.objects).padStart(8), String(row.maxPerCluster).padStart(12), String(row.medianPerCluster).padStart(15), String(row.remoteUsedMax).padStart(23),
        String(row.envoyPerSidecarMax).padStart(29), row.translateMs.toFixed(0).padStart(13), row.stringifyMs.toFixed(0).padStart(13), row.ratio.toFixed(2).padStart(6), row.peakRssMB.toFixed(0).padStart(12), String(row.overTarget).padStart(12)].join(' '))
      if (row.invalid && mode !== 'none') console.log(`          (${row.invalid} INVALID statuses: the generator is off)`)
    }
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const child = process.argv.indexOf('--child')
  if (child > 0) {
    const clusters = Number(process.argv[child + 1])
    const mode = process.argv[child + 2]
    const runs = mode === 'permissive' && clusters > 12 ? 1 : 3
    process.stdout.write(JSON.stringify(await measure(clusters, mode, runs)))
  } else benchFederation(process.argv.slice(2).map(Number).filter(Boolean).length ? process.argv.slice(2).map(Number) : undefined)
}
