/**
 * The local clusters' data plane (DESIGN.md §10): every sidecar pod and gateway of the workload clusters as a network
 * namespace with its pod IP, Istio's capture, an app and a real Envoy with a workload certificate. Which config each
 * Envoy runs is the caller's: a ConfigProvider fills the pod's config folder (the minimal static config of
 * minimal-config.ts, or Istio's generated config as file-based xDS). What is started is recorded in
 * <dir>/state.json, so stopDataPlane removes exactly it, even from another process. Imported only by the demo
 * service and tests.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {CoreV1Api, type KubeConfig} from '@kubernetes/client-node'
import {parse} from 'yaml'

import {isAlive, stopProcess, sleep, startProcess} from '../controlplane/processes.js'
import {SmhError, UsageError} from '../errors.js'
import {forContext} from '../kube/kubeconfig.js'
import {checkAddressesFree, checkAddressesRouted, NODE_ADDRESS} from './addresses.js'
import {type AppMode, appCommand, writeAppFile, writeAppMode} from './app.js'
import {applyRules, captureRules, guardRules, requireIptables} from './capture.js'
import {caFromCacerts, CERT_FILES, issueWorkloadCert, selfSignedCa, type SigningCa, spiffeId, writeCertFiles} from './certs.js'
import {adminGet, requireEnvoy, startProxy} from './proxy.js'
import {run} from './exec.js'
import {createNodeLink, createPodNetwork, deleteAllOurs, NODE_LINK, ourLinks, ourNamespaces} from './netns.js'
import {type DataPlanePod, type DataPlaneService, readTopology, type Topology} from './topology.js'

export type {DataPlanePod, DataPlaneService, Topology} from './topology.js'
export {minimalConfig, minimalBootstrap} from './minimal-config.js'
export {sendTraffic, type TrafficResult, type Answer} from './traffic.js'
export {adminGet} from './proxy.js'
export {natRules} from './capture.js'
export {ourLinks, ourNamespaces} from './netns.js'

/** What a config provider gets for one pod: where to write, where its certificates are, the clusters' Services. */
export interface ConfigContext {
  /** The folder to fill: a bootstrap (`bootstrap.yaml` or `.json`) and whatever it refers to. */
  configDir: string
  /** Workload certificate files (`cert-chain.pem`, `key.pem`, `root-cert.pem`): paths for Envoy's file-based secrets. */
  certFiles: {chain: string; key: string; root: string}
  trustDomain: string
  /** Every Service of the data plane's clusters (with the pod IPs behind it). */
  services: DataPlaneService[]
  topology: Topology
}

/** Fills a pod's config folder before its Envoy starts (and may keep updating it: file-based xDS is watched). */
export type ConfigProvider = (pod: DataPlanePod, context: ConfigContext) => Promise<void>

export interface RunningPod extends DataPlanePod {
  dir: string
  configDir: string
  certDir: string
  trustDomain: string
  spiffe: string
  /** The CA fingerprint the certificate was issued under (renewWorkloadCerts compares). */
  caFingerprint: string
  process?: {pid: number; port: number; logFile: string; modeFile: string}
  proxy?: {pid: number; logFile: string}
}

export interface DataPlaneState {
  dir: string
  startedAt: string
  kubeconfig: string
  clusters: string[]
  node: {link: string; address: string}
  pods: RunningPod[]
  services: DataPlaneService[]
  cas: Record<string, {source: SigningCa['source']; fingerprint: string}>
}

export interface StartDataPlaneOptions {
  kubeconfig: string
  /** The workload clusters (contexts of the kubeconfig) whose pods to make real. */
  clusters: string[]
  /** The data plane's folder: state.json, per-pod folders (config, certificates, logs). */
  dir: string
  config: ConfigProvider
  envoyBinary?: string
  /** Outlive this process (demo up) rather than die with it (tests). */
  detached?: boolean
  onProgress?: (message: string) => void
}

const STATE_FILE = 'state.json'
const ISTIO_NAMESPACE = 'istio-system'

/** Root only (namespaces, links, iptables): one line otherwise, exit 2. */
export function requireRoot(what = 'the data plane'): void {
  if (process.platform !== 'linux') throw new UsageError(`${what} needs Linux (network namespaces): this is ${process.platform}`)
  if (process.getuid?.() !== 0) throw new UsageError(`${what} needs root (it makes network namespaces, links and iptables rules): run it with sudo`)
}

/** Everything the data plane needs from the host, checked before anything is made: root, iptables, Envoy. */
export function requireDataPlaneHost(what = 'the data plane'): void {
  requireRoot(what)
  requireIptables()
  requireEnvoy()
}

export function readDataPlaneState(dir: string): DataPlaneState | undefined {
  const file = join(dir, STATE_FILE)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as DataPlaneState : undefined
}

function writeState(state: DataPlaneState): void {
  const file = join(state.dir, STATE_FILE)
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${file}.tmp`, file)
}

/** The cluster's CA: its `cacerts` intermediate when there is one, else the cluster's own self-signed CA. */
export async function clusterCa(kc: KubeConfig, cluster: string, dir: string): Promise<SigningCa> {
  const core = forContext(kc, cluster).makeApiClient(CoreV1Api)
  const secret = await core.readNamespacedSecret({name: 'cacerts', namespace: ISTIO_NAMESPACE}).catch((e: {code?: number}) => {
    if (e.code === 404) return undefined
    throw e
  })
  return (secret?.data && caFromCacerts(secret.data)) || selfSignedCa(cluster, join(dir, 'ca', cluster))
}

/** The trust domain the cluster's istiod is configured with (mesh config `trustDomain`, default cluster.local). */
export async function trustDomainOf(kc: KubeConfig, cluster: string): Promise<string> {
  const core = forContext(kc, cluster).makeApiClient(CoreV1Api)
  const cm = await core.readNamespacedConfigMap({name: 'istio', namespace: ISTIO_NAMESPACE}).catch(() => undefined)
  const mesh = cm?.data?.mesh ? parse(cm.data.mesh) as {trustDomain?: string} : undefined
  return mesh?.trustDomain ?? 'cluster.local'
}

async function issueFor(pod: RunningPod, ca: SigningCa): Promise<void> {
  const {chainPem, keyPem} = await issueWorkloadCert(ca, pod.spiffe)
  writeCertFiles(pod.certDir, {chainPem, keyPem, rootPem: ca.rootPem})
  pod.caFingerprint = ca.fingerprint
}

/** Runs fn over items, at most `limit` at once (2 cores are shared: don't start 15 Envoys at a time). */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(Array.from({length: Math.min(limit, queue.length)}, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await fn(item)
  }))
}

async function waitForApp(netns: string, port: number, pid: number): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new SmhError(`the app in ${netns} exited before it listened on ${port}`)
    if (await probe(netns, port)) return
    await sleep(100)
  }
  throw new SmhError(`the app in ${netns} did not listen on ${port} within 15s`)
}

async function probe(netns: string, port: number): Promise<boolean> {
  try {
    run('ip', ['netns', 'exec', netns, process.execPath, '-e', `require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`])
    return true
  } catch {
    return false
  }
}

/**
 * Makes every sidecar pod and gateway of the clusters real. Refuses (one line) without root, iptables or Envoy,
 * when another data plane's namespaces exist, or when an address is the host's or does not resolve to its own
 * link once made. On any failure it removes what it made.
 */
export async function startDataPlane(options: StartDataPlaneOptions): Promise<DataPlaneState> {
  requireRoot()
  requireIptables()
  const envoyBinary = options.envoyBinary ?? requireEnvoy()
  const progress = options.onProgress ?? (() => {})
  const {dir} = options
  const leftover = ourNamespaces()
  if (leftover.length) throw new SmhError(`another data plane runs on this host (network namespace ${leftover[0]}): stop it first with \`kubectl smh demo down\``)
  if (ourLinks().length) throw new SmhError(`links of another data plane remain on this host (${ourLinks().join(', ')}): stop it first with \`kubectl smh demo down\``)

  const {loadKubeconfig} = await import('../kube/kubeconfig.js')
  const kc = loadKubeconfig({kubeconfig: options.kubeconfig})
  const topology = await readTopology(kc, options.clusters)
  if (topology.pods.length === 0) throw new SmhError(`no pods with a sidecar or gateway in ${options.clusters.join(', ')}: seed the clusters first (kubectl smh demo up)`)
  const addresses = topology.pods.flatMap((p) => p.addresses)
  const dup = addresses.find((a, i) => addresses.indexOf(a) !== i)
  if (dup) throw new SmhError(`data plane: address ${dup} belongs to two pods (${topology.pods.filter((p) => p.addresses.includes(dup)).map((p) => `${p.cluster}/${p.namespace}/${p.name}`).join(', ')}): every pod needs its own`)
  checkAddressesFree([NODE_ADDRESS, ...addresses])

  mkdirSync(dir, {recursive: true, mode: 0o700})
  const appFile = writeAppFile(dir)
  const state: DataPlaneState = {
    dir, startedAt: new Date().toISOString(), kubeconfig: options.kubeconfig, clusters: options.clusters,
    node: {link: NODE_LINK, address: NODE_ADDRESS}, pods: [], services: topology.services, cas: {},
  }
  // Ctrl-C while starting: remove what is made so far, so no half data plane is left unrecorded.
  const onInterrupt = () => void stopDataPlane(dir).finally(() => process.exit(130))
  process.once('SIGINT', onInterrupt)
  try {
    createNodeLink()
    writeState(state)
    progress(`making ${topology.pods.length} pods real: network namespaces, links, capture`)
    for (const p of topology.pods) {
      createPodNetwork(p, p.addresses, addresses)
      applyRules(p.netns, p.kind === 'sidecar' ? captureRules() : guardRules().join('\n') + '\n')
      const podDir = join(dir, 'pods', p.cluster, p.namespace, p.name)
      state.pods.push({...p, dir: podDir, configDir: join(podDir, 'config'), certDir: join(podDir, 'certs'), trustDomain: '', spiffe: '', caFingerprint: ''})
      writeState(state)
    }
    checkAddressesRouted(state.pods.flatMap((p) => p.addresses.map((address) => ({address, link: p.hostLink}))))

    progress('issuing workload certificates')
    for (const cluster of options.clusters) {
      const ca = await clusterCa(kc, cluster, dir)
      const trustDomain = await trustDomainOf(kc, cluster)
      state.cas[cluster] = {source: ca.source, fingerprint: ca.fingerprint}
      for (const pod of state.pods.filter((p) => p.cluster === cluster)) {
        pod.trustDomain = trustDomain
        pod.spiffe = spiffeId(trustDomain, pod.namespace, pod.serviceAccount)
        await issueFor(pod, ca)
      }
    }
    writeState(state)

    progress('starting apps and Envoys')
    await pool(state.pods, 3, async (pod) => {
      mkdirSync(join(pod.dir, 'logs'), {recursive: true})
      if (pod.kind === 'sidecar' && pod.ports.length) {
        const port = pod.ports[0]
        const modeFile = join(pod.dir, 'app-mode')
        writeAppMode(modeFile, 'ok')
        const {command, args} = appCommand(pod.netns, appFile, port, modeFile, {cluster: pod.cluster, namespace: pod.namespace, pod: pod.name, app: pod.app, version: pod.version})
        const logFile = join(pod.dir, 'logs', 'app.log')
        const app = startProcess(`app ${pod.name}`, command, args, logFile, options.detached ?? false)
        pod.process = {pid: app.pid, port, logFile, modeFile}
        await waitForApp(pod.netns, port, app.pid)
      }
      await options.config(pod, {
        configDir: pod.configDir,
        certFiles: {chain: join(pod.certDir, CERT_FILES.chain), key: join(pod.certDir, CERT_FILES.key), root: join(pod.certDir, CERT_FILES.root)},
        trustDomain: pod.trustDomain, services: topology.services, topology,
      })
      const logFile = join(pod.dir, 'logs', 'envoy.log')
      const proxy = await startProxy({pod, configDir: pod.configDir, envoyBinary, logFile, detached: options.detached})
      pod.proxy = {pid: proxy.pid, logFile}
      writeState(state)
    })
    writeState(state)
    return state
  } catch (error) {
    await stopDataPlane(dir)
    throw error
  } finally {
    process.off('SIGINT', onInterrupt)
  }
}

export interface StopResult {
  namespaces: string[]
  links: string[]
  processes: number
}

/**
 * Removes everything the data plane made: its processes (recorded, and whatever else runs in its namespaces), every
 * `smh-` namespace (with it the veth pairs, routes and iptables rules inside), every `smh` link, and its folder.
 */
export async function stopDataPlane(dir: string): Promise<StopResult> {
  const state = readDataPlaneState(dir)
  const pids = (state?.pods ?? []).flatMap((p) => [p.proxy?.pid, p.process?.pid]).filter((p): p is number => p !== undefined && isAlive(p))
  await Promise.all(pids.map((pid) => stopProcess(pid, 2000)))
  const removed = await deleteAllOurs()
  if (state) rmSync(dir, {recursive: true, force: true})
  return {...removed, processes: pids.length}
}

/** The pods a `CLUSTER/NS/NAME` names: a Deployment's pods, or every pod behind a Service. */
export function podsNamed(state: DataPlaneState, ref: string): RunningPod[] {
  const parts = ref.split('/')
  if (parts.length !== 3 || parts.some((p) => p === '')) throw new UsageError(`"${ref}" is not CLUSTER/NAMESPACE/NAME: e.g. ${state.clusters[0] ?? 'kind2'}/default/reviews`)
  const [cluster, namespace, name] = parts
  if (!state.clusters.includes(cluster)) throw new UsageError(`"${ref}": the data plane has no cluster "${cluster}" (it has ${state.clusters.join(', ')})`)
  const inNs = state.pods.filter((p) => p.cluster === cluster && p.namespace === namespace)
  const byDeployment = inNs.filter((p) => p.deployment === name)
  if (byDeployment.length) return byDeployment
  const service = state.services.find((s) => s.cluster === cluster && s.namespace === namespace && s.name === name)
  if (service) {
    const pods = inNs.filter((p) => Object.keys(service.selector).length && Object.entries(service.selector).every(([k, v]) => p.labels[k] === v))
    if (pods.length) return pods
    throw new UsageError(`"${ref}": Service ${name} selects no pod of the data plane`)
  }
  const names = [...new Set([...inNs.map((p) => p.deployment), ...state.services.filter((s) => s.cluster === cluster && s.namespace === namespace).map((s) => s.name)])].sort()
  throw new UsageError(`"${ref}": no Deployment or Service "${name}" in ${cluster}/${namespace} (there: ${names.join(', ') || 'nothing'})`)
}

/**
 * Restarts one pod's Envoy on the config in its folder (a new process: no connections, outlier ejections or stats
 * carried over), records the new pid, and resolves when it is ready. For benchmarks that repeat a failover without
 * waiting out the base ejection time.
 */
export async function restartProxy(dir: string, ref: {cluster: string; name: string}, options: {detached?: boolean; envoyBinary?: string} = {}): Promise<RunningPod> {
  const state = readDataPlaneState(dir)
  const pod = state?.pods.find((p) => p.cluster === ref.cluster && p.name === ref.name)
  if (!state || !pod?.proxy) throw new SmhError(`no running proxy ${ref.cluster}/${ref.name} in ${dir}`)
  await stopProcess(pod.proxy.pid, 2000)
  const proxy = await startProxy({pod, configDir: pod.configDir, envoyBinary: options.envoyBinary ?? requireEnvoy(), logFile: pod.proxy.logFile, detached: options.detached ?? true})
  pod.proxy = {pid: proxy.pid, logFile: pod.proxy.logFile}
  writeState(state)
  return pod
}

/** Sets the apps' mode (fail: 503; stop: port closed; ok) and returns the pods changed. */
export function setAppMode(pods: RunningPod[], mode: AppMode): RunningPod[] {
  const withApp = pods.filter((p) => p.process)
  for (const p of withApp) writeAppMode(p.process!.modeFile, mode)
  return withApp
}

/**
 * Renews the workload certificates of every cluster whose CA changed since they were issued (a virtual mesh wrote
 * `cacerts`, or replaced it). Returns the clusters renewed.
 */
export async function renewWorkloadCerts(dir: string): Promise<string[]> {
  const state = readDataPlaneState(dir)
  if (!state) return []
  const {loadKubeconfig} = await import('../kube/kubeconfig.js')
  const kc = loadKubeconfig({kubeconfig: state.kubeconfig})
  const renewed: string[] = []
  for (const cluster of state.clusters) {
    const ca = await clusterCa(kc, cluster, dir)
    if (state.cas[cluster]?.fingerprint === ca.fingerprint) continue
    for (const pod of state.pods.filter((p) => p.cluster === cluster)) await issueFor(pod, ca)
    state.cas[cluster] = {source: ca.source, fingerprint: ca.fingerprint}
    renewed.push(cluster)
  }
  if (renewed.length) writeState(state)
  return renewed
}

/** Which recorded processes still run. */
export function dataPlaneProcesses(state: DataPlaneState): {name: string; pid: number; running: boolean; log: string; address: string}[] {
  return state.pods.flatMap((p) => [
    ...(p.proxy ? [{name: `${p.cluster}/${p.namespace}/${p.name} envoy`, pid: p.proxy.pid, running: isAlive(p.proxy.pid), log: p.proxy.logFile, address: p.addresses.join(',')}] : []),
    ...(p.process ? [{name: `${p.cluster}/${p.namespace}/${p.name} app`, pid: p.process.pid, running: isAlive(p.process.pid), log: p.process.logFile, address: `${p.addresses[0]}:${p.process.port}`}] : []),
  ])
}

/** A stat of one Envoy (admin /stats?filter=), as numbers by name. */
export async function envoyStats(pod: {netns: string}, filter: string): Promise<Record<string, number>> {
  const text = await adminGet(pod.netns, `/stats?filter=${encodeURIComponent(filter)}`)
  return Object.fromEntries(text.split('\n').map((l) => l.split(': ')).filter((kv) => kv.length === 2 && /^\d+$/.test(kv[1])).map(([k, v]) => [k, Number(v)]))
}
