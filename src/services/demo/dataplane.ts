/**
 * The demo's data plane (issue 9): `demo up --dataplane` makes the workload clusters' pods real, `demo traffic` sends
 * requests from inside one, `demo fail`/`heal` make apps answer 503 and back, `demo down` removes it all. The
 * plumbing is src/dataplane; this service resolves names and composes. Returns data, prints nothing.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {isIP} from 'node:net'
import {dirname, join} from 'node:path'

import {CustomObjectsApi} from '@kubernetes/client-node'

import {
  type ConfigProvider, type DataPlaneState, dataPlaneProcesses, minimalConfig, podsNamed, readDataPlaneState, requireDataPlaneHost,
  renewWorkloadCerts, requireRoot, sendTraffic, setAppMode, startDataPlane, stopDataPlane, type StopResult, type TrafficResult,
} from '../../dataplane/index.js'
import {isAlive} from '../../controlplane/processes.js'
import {IstiodStandIn, raiseInotifyInstances, restoreInotifyInstances, startIstiodLoop, stopIstiodLoop} from '../../dataplane/istiod.js'
import {SmhError, UsageError} from '../../errors.js'
import {forContext, loadKubeconfig} from '../../kube/kubeconfig.js'

export const DATAPLANE_FOLDER = 'dataplane'

export function dataPlaneDir(demoDir: string): string {
  return join(demoDir, DATAPLANE_FOLDER)
}

function requireDataPlane(demoDir: string): DataPlaneState {
  const state = readDataPlaneState(dataPlaneDir(demoDir))
  if (!state) throw new UsageError(`no demo data plane runs (nothing in ${dataPlaneDir(demoDir)}): start one with \`sudo kubectl smh demo up --dataplane\``)
  return state
}

/** Before anything starts: root, Linux, iptables and Envoy are there (one line otherwise; no root: exit 2). */
export function checkDataPlaneHost(): void {
  requireDataPlaneHost('demo up --dataplane')
}

export interface DataPlaneUpResult {
  alreadyRunning: boolean
  dir: string
  pods: {cluster: string; namespace: string; name: string; kind: string; addresses: string[]; spiffe: string}[]
  cas: DataPlaneState['cas']
  renewed: string[]
}

/** The istiod stand-in's background process, recorded next to the data plane's state. */
const ISTIOD_PROCESS = 'istiod-process.json'
function istiodProcess(dir: string): {pid: number; logFile: string; inotifyBefore?: number} | undefined {
  const file = join(dir, ISTIOD_PROCESS)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as {pid: number; logFile: string; inotifyBefore?: number} : undefined
}

/**
 * Brings the data plane up for the workload clusters (all but the management cluster). `config` fills each proxy's
 * config folder: by default Istio's generated config (the istiod stand-in of src/dataplane/istiod.ts, as file-based
 * xDS), then kept current by the stand-in's loop, a background process recorded here and stopped by `demo down`.
 */
export async function demoDataPlaneUp(options: {demoDir: string; kubeconfig: string; clusters: string[]; config?: ConfigProvider | 'istio' | 'minimal'; detached?: boolean; onProgress?: (m: string) => void}): Promise<DataPlaneUpResult> {
  requireRoot('demo up --dataplane')
  const dir = dataPlaneDir(options.demoDir)
  const existing = readDataPlaneState(dir)
  const loop = istiodProcess(dir)
  const wantsIstio = (options.config ?? 'istio') === 'istio'
  if (existing && dataPlaneProcesses(existing).every((p) => p.running) && (!wantsIstio || (loop && isAlive(loop.pid)))) {
    const renewed = await renewWorkloadCerts(dir)
    return describe(readDataPlaneState(dir) ?? existing, true, renewed)
  }
  if (existing) {
    options.onProgress?.('a previous data plane is partly stopped: removing it and starting afresh')
    await stopIstiodLoop(loop?.pid)
    await stopDataPlane(dir)
  }
  let standIn: IstiodStandIn | undefined
  let inotifyBefore: number | undefined
  let config: ConfigProvider
  if (options.config === 'minimal') config = minimalConfig
  else if (typeof options.config === 'function') config = options.config
  else {
    standIn = new IstiodStandIn(loadKubeconfig({kubeconfig: options.kubeconfig}))
    const istiod = standIn
    inotifyBefore = raiseInotifyInstances()
    if (inotifyBefore) options.onProgress?.(`fs.inotify.max_user_instances ${inotifyBefore} → 8192: every Envoy watches one inotify instance per xDS file (put back by demo down)`)
    options.onProgress?.("generating each proxy's config with Istio's generator (the istiod stand-in)")
    config = async (pod, context) => {
      await istiod.push({cluster: pod.cluster, namespace: pod.namespace, name: pod.name, configDir: context.configDir, certDir: dirname(context.certFiles.chain)})
    }
  }
  try {
    const state = await startDataPlane({
      kubeconfig: options.kubeconfig, clusters: options.clusters, dir, config,
      detached: options.detached ?? true, onProgress: options.onProgress,
    })
    if (standIn) {
      const started = startIstiodLoop(dir, {detached: options.detached ?? true})
      writeFileSync(join(dir, ISTIOD_PROCESS), JSON.stringify({...started, inotifyBefore}))
      options.onProgress?.(`istiod stand-in watching ${options.clusters.join(', ')} (pid ${started.pid}, log ${started.logFile})`)
    }
    return describe(state, false, [])
  } catch (error) {
    restoreInotifyInstances(inotifyBefore)
    throw error
  } finally {
    standIn?.close()
  }
}

function describe(state: DataPlaneState, alreadyRunning: boolean, renewed: string[]): DataPlaneUpResult {
  return {
    alreadyRunning, dir: state.dir, renewed, cas: state.cas,
    pods: state.pods.map((p) => ({cluster: p.cluster, namespace: p.namespace, name: p.name, kind: p.kind, addresses: p.addresses, spiffe: p.spiffe})),
  }
}

export interface TrafficRequest {
  demoDir: string
  /** CLUSTER/NS/DEPLOYMENT */
  from: string
  /** HOST:PORT: a Service name (`reviews`, `reviews.default`, `….svc.cluster.local`), a ServiceEntry host or an IP. */
  to: string
  requests?: number
  rate?: number
  path?: string
  onAnswer?: Parameters<typeof sendTraffic>[1]
}

export interface DemoTrafficResult extends TrafficResult {
  from: string
  to: string
  address: string
}

/** Where HOST:PORT goes from a pod of `cluster`/`namespace`: the Service's VIP, a ServiceEntry's address, or the IP. */
async function resolveHost(state: DataPlaneState, cluster: string, namespace: string, host: string): Promise<string> {
  if (isIP(host)) return host
  const parts = host.replace(/\.$/, '').split('.')
  const [name, ns = namespace] = parts
  const isServiceName = parts.length <= 2 || (parts[2] === 'svc' && (parts.length === 3 || parts.slice(3).join('.') === 'cluster.local'))
  if (isServiceName) {
    const svc = state.services.find((s) => s.cluster === cluster && s.namespace === ns && s.name === name)
    if (svc?.vip) return svc.vip
  }
  const kc = loadKubeconfig({kubeconfig: state.kubeconfig})
  const objects = forContext(kc, cluster).makeApiClient(CustomObjectsApi)
  const list = await objects.listClusterCustomObject({group: 'networking.istio.io', version: 'v1beta1', plural: 'serviceentries'}).catch(() => ({items: []})) as {items: {spec?: {hosts?: string[]; addresses?: string[]}}[]}
  const entry = list.items.find((e) => e.spec?.hosts?.includes(host) && e.spec.addresses?.length)
  if (entry) return entry.spec!.addresses![0].replace(/\/32$/, '')
  const known = state.services.filter((s) => s.cluster === cluster && s.namespace === namespace).map((s) => s.name)
  throw new UsageError(`--to ${host}: no Service "${name}" in ${cluster}/${ns} and no ServiceEntry with an address for it (Services in ${cluster}/${namespace}: ${known.join(', ')}); or give an IP`)
}

/** Sends requests from inside a pod and counts who answered. Renews workload certificates first if a CA changed. */
export async function demoTraffic(request: TrafficRequest): Promise<DemoTrafficResult> {
  requireRoot('demo traffic')
  const state = requireDataPlane(request.demoDir)
  const pods = podsNamed(state, request.from).filter((p) => p.kind === 'sidecar')
  if (pods.length === 0) throw new UsageError(`--from ${request.from}: not a Deployment with a sidecar (gateways send no requests of their own)`)
  const match = /^(.+):(\d{1,5})$/.exec(request.to)
  if (!match) throw new UsageError(`--to "${request.to}" is not HOST:PORT: e.g. reviews:9080`)
  const [, host, port] = match
  const requests = request.requests ?? 10
  if (!Number.isInteger(requests) || requests < 1) throw new UsageError(`--requests ${requests}: give a whole number of at least 1`)
  if (request.rate !== undefined && !(request.rate > 0)) throw new UsageError(`--rate ${request.rate}: give requests per second above 0`)
  await renewWorkloadCerts(state.dir)
  const [pod] = pods
  const address = await resolveHost(state, pod.cluster, pod.namespace, host)
  const result = await sendTraffic({netns: pod.netns, address, port: Number(port), host: request.to, path: request.path, requests, rate: request.rate}, request.onAnswer)
  return {from: `${pod.cluster}/${pod.namespace}/${pod.name}`, to: request.to, address, ...result}
}

export interface FailResult {
  mode: 'fail' | 'stop' | 'ok'
  pods: string[]
}

/** `demo fail CLUSTER/NS/NAME`: a Deployment's apps (or every one behind a Service) answer 503 (or stop listening). */
export function demoFail(options: {demoDir: string; target: string; stop?: boolean}): FailResult {
  requireRoot('demo fail')
  const state = requireDataPlane(options.demoDir)
  const mode = options.stop ? 'stop' : 'fail'
  const pods = setAppMode(podsNamed(state, options.target), mode)
  if (pods.length === 0) throw new UsageError(`${options.target}: no app runs there (gateways have none)`)
  return {mode, pods: pods.map((p) => `${p.cluster}/${p.namespace}/${p.name}`)}
}

/** `demo heal [CLUSTER/NS/NAME]`: the apps answer again (all of them without a target). */
export function demoHeal(options: {demoDir: string; target?: string}): FailResult {
  requireRoot('demo heal')
  const state = requireDataPlane(options.demoDir)
  const pods = setAppMode(options.target ? podsNamed(state, options.target) : state.pods, 'ok')
  return {mode: 'ok', pods: pods.map((p) => `${p.cluster}/${p.namespace}/${p.name}`)}
}

/** Removes the data plane if one is recorded (or anything of ours is left on the host, as root). */
export async function demoDataPlaneDown(demoDir: string): Promise<StopResult | undefined> {
  const dir = dataPlaneDir(demoDir)
  const recorded = readDataPlaneState(dir)
  if (!recorded) return undefined
  if (process.getuid?.() !== 0) throw new SmhError(`the demo's data plane can only be removed by root: run \`sudo kubectl smh demo down\``, 2)
  const loop = istiodProcess(dir)
  await stopIstiodLoop(loop?.pid)
  const stopped = await stopDataPlane(dir)
  restoreInotifyInstances(loop?.inotifyBefore)
  return {...stopped, processes: stopped.processes + (loop ? 1 : 0)}
}

export function demoDataPlaneStatus(demoDir: string): ReturnType<typeof dataPlaneProcesses> {
  const dir = dataPlaneDir(demoDir)
  const state = readDataPlaneState(dir)
  if (!state) return []
  const loop = istiodProcess(dir)
  return [...dataPlaneProcesses(state), ...(loop ? [{name: 'istiod stand-in', pid: loop.pid, running: isAlive(loop.pid), log: loop.logFile, address: ''}] : [])]
}
