import {copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'

import {AppsV1Api, CoreV1Api, type KubeConfig, type KubernetesObject} from '@kubernetes/client-node'

import {packageRoot} from '../../controlplane/binaries.js'
import {
  type ControlPlaneState, readState, runningProcesses, startControlPlanes, stopRecorded,
} from '../../controlplane/control-plane.js'
import {UsageError} from '../../errors.js'
import {ClusterClient} from '../../kube/client.js'
import {kubeError} from '../../kube/errors.js'
import {forContext, loadKubeconfig} from '../../kube/kubeconfig.js'
import {type SeedObject, seedObjects} from './bookinfo.js'
import {demoDataPlaneDown, demoDataPlaneStatus} from './dataplane.js'

export const DEFAULT_DEMO_CLUSTERS = ['kind1', 'kind2', 'kind3']
/** Written once every cluster is seeded: a demo without it was interrupted and is started afresh. */
const SEEDED_MARKER = 'seeded'

/** Where the demo keeps its processes' state: KUBECTL_SMH_DEMO_DIR, else the XDG state folder. */
export function demoDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_SMH_DEMO_DIR) return resolve(env.KUBECTL_SMH_DEMO_DIR)
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'kubectl-smh', 'demo')
}

/** Istio's CRDs: KUBECTL_SMH_ISTIO_CRDS, else the copy in ../shared/testdata beside the project. */
export function istioCrdsFile(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.KUBECTL_SMH_ISTIO_CRDS ?? join(packageRoot, '..', 'shared', 'testdata', 'istio-crds.yaml')
  if (!existsSync(file)) {
    throw new UsageError(`Istio's CRDs not found at ${file}: set KUBECTL_SMH_ISTIO_CRDS to a copy of Istio's crd-all.gen.yaml`)
  }
  return file
}

export interface DemoUpResult {
  alreadyRunning: boolean
  kubeconfig: string
  managementCluster: string
  clusters: {name: string; server: string; pid: number; role: string}[]
  etcd: {pid: number; port: number}
  dir: string
}

export interface DemoUpOptions {
  clusters?: string[]
  /** Also write the demo's kubeconfig here. */
  kubeconfig?: string
  dir?: string
  onProgress?: (message: string) => void
}

/**
 * Starts the local control planes in the background (they outlive this process) and seeds them as the blog post
 * has them: the first cluster is the management cluster (empty); the others run Istio and bookinfo, the first of
 * them without reviews-v3. Running it again while they run changes nothing.
 */
export async function demoUp(options: DemoUpOptions = {}): Promise<DemoUpResult> {
  const clusters = options.clusters ?? DEFAULT_DEMO_CLUSTERS
  validateClusterNames(clusters)
  const dir = options.dir ?? demoDir()
  const progress = options.onProgress ?? (() => {})

  const existing = readState(dir)
  if (existing) {
    const running = runningProcesses(existing)
    if (running.length === 1 + existing.clusters.length && existsSync(join(dir, SEEDED_MARKER))) {
      exportKubeconfig(existing.kubeconfig, options.kubeconfig)
      return describeUp(existing, true)
    }
    progress(`a previous demo in ${dir} is partly stopped: stopping what is left and starting afresh`)
    await demoDataPlaneDown(dir)
    await stopRecorded(existing)
  }
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})

  const crdsFile = istioCrdsFile()
  const plane = await startControlPlanes({clusters, dir, detached: true, crdsFile, onProgress: progress})
  // Ctrl-C while seeding: stop what runs, so no half-seeded demo is left to be taken for a whole one.
  const onInterrupt = () => void plane.stop().finally(() => process.exit(130))
  process.once('SIGINT', onInterrupt)
  try {
    await seedBlogClusters(plane.state.kubeconfig, clusters, progress)
  } catch (error) {
    await plane.stop()
    throw error
  } finally {
    process.off('SIGINT', onInterrupt)
  }
  writeFileSync(join(dir, SEEDED_MARKER), new Date().toISOString())
  exportKubeconfig(plane.state.kubeconfig, options.kubeconfig)
  return describeUp(plane.state, false)
}

export interface DemoDownResult {
  dir: string
  stopped: {name: string; pid: number}[]
  /** What the data plane removed (when one ran): its namespaces (with their links, routes and rules), links, processes. */
  dataplane?: {namespaces: string[]; links: string[]; processes: number}
}

/** Stops exactly the processes `demo up` recorded and removes their data. Nothing running is not an error. */
export async function demoDown(options: {dir?: string} = {}): Promise<DemoDownResult> {
  const dir = options.dir ?? demoDir()
  // The data plane first: it needs root, and refusing must leave the control planes running and recorded.
  const dataplane = await demoDataPlaneDown(dir)
  const state = readState(dir)
  if (!state) return {dir, stopped: [], ...(dataplane ? {dataplane} : {})}
  const stopped = await stopRecorded(state)
  rmSync(dir, {recursive: true, force: true})
  return {dir, stopped: stopped.map((p) => ({name: p.name, pid: p.pid})), ...(dataplane ? {dataplane} : {})}
}

export interface DemoStatus {
  dir: string
  kubeconfig?: string
  processes: {name: string; role: string; pid: number; address: string; running: boolean; log: string}[]
}

export function demoStatus(options: {dir?: string} = {}): DemoStatus {
  const dir = options.dir ?? demoDir()
  const state = readState(dir)
  const dataplane = demoDataPlaneStatus(dir).map((p) => ({...p, role: 'data plane'}))
  if (!state) return {dir, processes: dataplane}
  const running = new Set(runningProcesses(state).map((p) => p.pid))
  return {
    dir,
    kubeconfig: state.kubeconfig,
    processes: [
      {name: 'etcd', role: 'storage', pid: state.etcd.pid, address: `http://127.0.0.1:${state.etcd.port}`, running: running.has(state.etcd.pid), log: state.etcd.logFile},
      ...state.clusters.map((c, i) => ({name: c.name, role: roleOf(i), pid: c.pid, address: c.server, running: running.has(c.pid), log: c.logFile})),
      ...dataplane,
    ],
  }
}

function roleOf(index: number): string {
  return index === 0 ? 'management' : 'istio + bookinfo'
}

function describeUp(state: ControlPlaneState, alreadyRunning: boolean): DemoUpResult {
  return {
    alreadyRunning,
    kubeconfig: state.kubeconfig,
    managementCluster: state.clusters[0]?.name ?? '',
    clusters: state.clusters.map((c, i) => ({name: c.name, server: c.server, pid: c.pid, role: roleOf(i)})),
    etcd: {pid: state.etcd.pid, port: state.etcd.port},
    dir: state.dir,
  }
}

function exportKubeconfig(from: string, to?: string): void {
  if (!to) return
  mkdirSync(dirname(resolve(to)), {recursive: true})
  copyFileSync(from, to)
}

function validateClusterNames(clusters: string[]): void {
  if (clusters.length < 2) throw new UsageError(`--clusters needs a management cluster and at least one more (got "${clusters.join(',')}"): e.g. --clusters kind1,kind2,kind3`)
  const bad = clusters.find((c) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(c) || c.length > 63)
  if (bad !== undefined) throw new UsageError(`--clusters: "${bad}" is not a valid cluster name: use lower-case letters, digits and '-' (DNS label)`)
  const dup = clusters.find((c, i) => clusters.indexOf(c) !== i)
  if (dup) throw new UsageError(`--clusters: "${dup}" is listed twice: name each cluster once`)
}

/** Seeds the clusters of the blog post: all but the first get Istio and bookinfo, the first of them without reviews-v3. */
export async function seedBlogClusters(kubeconfig: string, clusters: string[], progress: (m: string) => void = () => {}): Promise<void> {
  const kc = loadKubeconfig({kubeconfig})
  await Promise.all(clusters.slice(1).map((cluster, i) => {
    progress(`seeding ${cluster}: Istio control plane and bookinfo${i === 0 ? ' (without reviews-v3)' : ''}`)
    return seedCluster(kc, cluster, seedObjects({cluster, withReviewsV3: i > 0, index: i + 2}))
  }))
}

/** Server-side applies each object, then sets its status through the status subresource (no kubelet here). */
async function seedCluster(kc: KubeConfig, cluster: string, objects: SeedObject[]): Promise<void> {
  const client = ClusterClient.forContext(kc, cluster)
  const one = forContext(kc, cluster)
  const core = one.makeApiClient(CoreV1Api)
  const apps = one.makeApiClient(AppsV1Api)
  const uids = new Map<string, string>()
  const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`
  try {
    for (const {status, ...object} of objects) {
      const refs = object.metadata?.ownerReferences?.map((r) => ({...r, uid: uids.get(key(r.kind, object.metadata?.namespace, r.name)) ?? r.uid}))
      const applied = await client.apply({...object, metadata: {...object.metadata, ...(refs ? {ownerReferences: refs} : {})}} as KubernetesObject)
      uids.set(key(object.kind!, object.metadata?.namespace, object.metadata!.name!), applied.metadata!.uid!)
      if (!status) continue
      const body = {...applied, status} as never
      const name = applied.metadata!.name!
      const namespace = applied.metadata!.namespace!
      switch (object.kind) {
        case 'Pod': await core.replaceNamespacedPodStatus({name, namespace, body}); break
        case 'Service': await core.replaceNamespacedServiceStatus({name, namespace, body}); break
        case 'Deployment': await apps.replaceNamespacedDeploymentStatus({name, namespace, body}); break
        case 'ReplicaSet': await apps.replaceNamespacedReplicaSetStatus({name, namespace, body}); break
        default: throw new Error(`no status writer for ${object.kind}`)
      }
    }
  } catch (error) {
    throw kubeError(error, cluster)
  }
}
