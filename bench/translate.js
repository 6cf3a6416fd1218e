#!/usr/bin/env node
// Benchmark of the translator alone (no parsing, no discovery, no I/O): 3 clusters × N services, TrafficPolicies and
// FailoverServices, at full size (1,000 services per cluster, 300 policies, 20 failover services), 1/3 and 1/10.
// Prints time, peak heap and the ratio to JSON.stringify of the same output. Never asserts.
// Run after `npm run build`: node bench/translate.js   (or import {benchTranslate} from './translate.js')
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const CLUSTERS = ['cluster-a', 'cluster-b', 'cluster-c']
const API = 'networking.smh.solo.io/v1alpha2'

/** What discovery finds in each cluster (bench/sync.js seeds real clusters to match). */
export function discovered(servicesPerCluster) {
  return CLUSTERS.map((cluster, c) => {
    const mesh = `istiod-istio-system-${cluster}`
    const services = []
    for (let i = 0; i < servicesPerCluster; i++) {
      services.push({
        name: `svc-${i}-default-${cluster}`, cluster, namespace: 'default', serviceName: `svc-${i}`,
        labels: {app: `svc-${i}`}, selector: {app: `svc-${i}`},
        ports: [{name: 'http', port: 8080, protocol: 'TCP'}], subsets: {version: ['v1', 'v2']}, mesh, workloads: [],
      })
    }
    return {
      cluster,
      meshes: [{
        name: mesh, cluster, installationNamespace: 'istio-system', istiodName: 'istiod', version: '1.30.3', revision: 'default',
        trustDomain: cluster, istiodServiceAccount: 'istiod', podLabels: {app: 'istiod'},
        gateways: [{serviceName: 'istio-eastwestgateway', namespace: 'istio-system', workloadLabels: {istio: 'eastwestgateway'}, externalAddress: `172.18.0.${c + 2}`, externalAddressIsHostname: false, externalTlsPort: 15443, tlsContainerPort: 15443, hasPassthroughServer: false}],
      }],
      workloads: [],
      services,
    }
  })
}

/** The SMH resources (bench/sync.js writes them into a real management cluster). */
export function resources(servicesPerCluster, policies, failovers) {
  const out = [{apiVersion: API, kind: 'VirtualMesh', metadata: {name: 'vm', namespace: 'service-mesh-hub'}, spec: {meshes: CLUSTERS.map((c) => ({name: `istiod-istio-system-${c}`}))}}]
  const ref = (i, c) => ({name: `svc-${i % servicesPerCluster}`, namespace: 'default', clusterName: CLUSTERS[c % 3]})
  for (let p = 0; p < policies; p++) {
    const services = Array.from({length: 3}, (_, k) => ref(p * 3 + k, p + k))
    const spec = {destinationSelector: [{kubeServiceRefs: {services}}]}
    if (p % 3 === 0) spec.outlierDetection = {consecutiveErrors: 3}
    if (p % 3 === 1) Object.assign(spec, {requestTimeout: '2s', retries: {attempts: 3, perTryTimeout: '500ms'}, httpRequestMatchers: [{prefix: `/p${p}`}]})
    if (p % 3 === 2) spec.trafficShift = {destinations: [{kubeService: {...ref(p, p), subset: {version: 'v1'}}, weight: 90}, {kubeService: {...ref(p, p + 1), subset: {version: 'v2'}}, weight: 10}]}
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `tp-${p}`, namespace: 'service-mesh-hub'}, spec})
  }
  for (let f = 0; f < failovers; f++) {
    const backing = [ref(f, 0), ref(f, 1)]
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `fs-outlier-${f}`, namespace: 'service-mesh-hub'}, spec: {destinationSelector: [{kubeServiceRefs: {services: backing}}], outlierDetection: {consecutiveErrors: 3}}})
    out.push({apiVersion: API, kind: 'FailoverService', metadata: {name: `fs-${f}`, namespace: 'service-mesh-hub'}, spec: {hostname: `fs-${f}.default.global`, port: {number: 8080, protocol: 'http'}, meshes: [{name: 'istiod-istio-system-cluster-a'}], backingServices: backing.map((kubeService) => ({kubeService}))}})
  }
  return out
}

export const SCALES = [
  {label: '1/10', services: 100, policies: 30, failovers: 2},
  {label: '1/3', services: 333, policies: 100, failovers: 7},
  {label: '1', services: 1000, policies: 300, failovers: 20},
]

// CPU time of the process (user + system) besides wall time: on a busy machine (CI, parallel builds) wall time
// mostly measures the other processes. GC helper threads count in CPU time: work the translation causes.
const time = (fn) => {
  const start = process.cpuUsage()
  const wallStart = process.hrtime.bigint()
  const value = fn()
  const used = process.cpuUsage(start)
  return {value, ms: (used.user + used.system) / 1000, wallMs: Number(process.hrtime.bigint() - wallStart) / 1e6}
}

/** One scale, in this process: best of a few runs. */
async function measure(scale, validate) {
  const {translate} = await import('../dist/translate/index.js')
  const input = {resources: resources(scale.services, scale.policies, scale.failovers), discovered: discovered(scale.services), validate}
  globalThis.gc?.()
  // maxRSS is the process's high-water mark: its growth over the first translation is that translation's peak.
  const rssBefore = process.resourceUsage().maxRSS
  const heapBefore = process.memoryUsage().heapUsed
  const first = time(() => translate(input))
  const peakMB = Math.max((process.resourceUsage().maxRSS - rssBefore) / 1024, (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20)
  // Medians of several runs, each after a full GC: the machine may be busy, and one slow run says little.
  const median = (fn, runs) => {
    const samples = []
    for (let i = 0; i < runs; i++) {
      globalThis.gc?.()
      samples.push(time(fn))
    }
    const mid = (key) => samples.map((t) => t[key]).sort((a, b) => a - b)[Math.floor(runs / 2)]
    return {ms: mid('ms'), wallMs: mid('wallMs')}
  }
  const translated = median(() => translate(input), 7)
  const best = translated.ms
  const result = first.value
  const stringified = median(() => JSON.stringify(result.clusters), 7)
  const stringify = stringified.ms
  // Back to back, no forced GC in between: the collector's cost is amortised as in a longer-lived process.
  const backToBack = (fn, runs) => {
    const start = time(() => {
      for (let i = 0; i < runs; i++) fn()
    })
    return {ms: start.ms / runs, wallMs: start.wallMs / runs}
  }
  const warm = backToBack(() => translate(input), 15)
  const warmStringify = backToBack(() => JSON.stringify(result.clusters), 15)
  const objects = Object.values(result.clusters).reduce((n, list) => n + list.length, 0)
  const invalid = result.statuses.filter((s) => s.state !== 'ACCEPTED').length
  return {scale: scale.label, services: scale.services * 3, policies: scale.policies, failovers: scale.failovers, objects, invalid, ms: best, heapMB: peakMB, stringifyMs: stringify, ratio: best / stringify, wallMs: translated.wallMs, stringifyWallMs: stringified.wallMs, warmWallMs: warm.wallMs, warmStringifyWallMs: warmStringify.wallMs, warmRatio: warm.wallMs / warmStringify.wallMs}
}

/** Runs every scale in a fresh process (so peak heap is its own) and prints a table. */
export function benchTranslate({validate = [false, true]} = {}) {
  const self = fileURLToPath(import.meta.url)
  const rows = []
  for (const v of validate) {
    for (const scale of SCALES) {
      const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', scale.label, String(v)], {encoding: 'utf8'})
      rows.push({...JSON.parse(out), validate: v})
    }
  }
  console.log('translate benchmark: 3 clusters, one VirtualMesh (federation N×M), TrafficPolicies (1/3 outlier, 1/3 timeout+retries, 1/3 shift), FailoverServices')
  console.log('cold: medians of 7 runs, each after a full GC; ratio = translate CPU time / JSON.stringify(output) CPU time (GC threads included)')
  console.log('warm: 15 runs back to back (GC amortised); ratio of wall times, translate / JSON.stringify')
  console.log('scale  validate  services  policies  failovers  objects  cold cpu ms (wall)  peak MB  stringify cpu ms (wall)  cold ratio  warm ms  warm stringify ms  warm ratio  cpu ms/object')
  for (const r of rows) {
    console.log(
      [r.scale.padEnd(5), String(r.validate).padEnd(8), String(r.services).padStart(8), String(r.policies).padStart(9), String(r.failovers).padStart(10), String(r.objects).padStart(8),
        `${r.ms.toFixed(1)} (${r.wallMs.toFixed(1)})`.padStart(19), r.heapMB.toFixed(1).padStart(8), `${r.stringifyMs.toFixed(1)} (${r.stringifyWallMs.toFixed(1)})`.padStart(24), r.ratio.toFixed(2).padStart(11),
        r.warmWallMs.toFixed(1).padStart(8), r.warmStringifyWallMs.toFixed(1).padStart(18), r.warmRatio.toFixed(2).padStart(11), (r.ms / r.objects).toFixed(4).padStart(14)].join(' '),
    )
    if (r.invalid) console.log(`       (${r.invalid} INVALID statuses: the generator is off)`)
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const child = process.argv.indexOf('--child')
  if (child > 0) {
    const scale = SCALES.find((s) => s.label === process.argv[child + 1])
    process.stdout.write(JSON.stringify(await measure(scale, process.argv[child + 2] === 'true')))
  } else benchTranslate()
}
