/**
 * `kubectl smh stats` (issue 10): reads every registered cluster at once with its stored credentials (pods, services,
 * the mesh config's trust domain), then each Istio proxy's `:15090/stats/prometheus` through its cluster's API
 * server (`pods/NAME:15090/proxy`), one request per pod, a bounded number in flight across all clusters; the model
 * (src/observe/stats.ts) makes rows of it. Where samples come from is an option (`read`), so a Prometheus server can
 * stand in for the pod proxy. A pod or a cluster that cannot be read is noted and the others go on. Returns data,
 * prints nothing.
 */
import {parse as parseYaml} from 'yaml'

import type {ClusterClient} from '../kube/client.js'
import {LIST_PAGE_SIZE, listAll} from '../kube/list.js'
import {type RegisteredCluster, readRegisteredClusters} from '../kube/registry.js'
import type {PodSamples} from '../observe/stats-samples.js'
import {
  type LabelSelector, type PodRow, type StatsFilter, type StatsPod, type StatsRow, type StatsWorld,
  aggregateRows, filterRows, isStatsMetric, parseExposition, parseLabelSelector, parseServiceRef, podRows, trustDomainOf, workloadOf,
} from '../observe/stats.js'

/** Proxies read at once, over all clusters: enough to hide each API server's proxying latency, few enough not to crowd them. */
export const DEFAULT_STATS_CONCURRENCY = 16
/** A pod's proxy that does not answer within this is unreadable (unless --request-timeout says otherwise). */
export const DEFAULT_POD_TIMEOUT_MS = 10_000
/** The Istio proxy's Prometheus port (pilot-agent's merged stats are on 15020; Envoy's own on 15090). */
export const STATS_PORT = 15090

/** Something that could not be read: a pod's proxy (cluster, namespace, pod) or a whole cluster (cluster alone). */
export interface Unreadable {
  cluster: string
  namespace?: string
  pod?: string
  reason: string
}

/** A proxy to read, with the cluster client that reaches it. */
export interface ProxyPod {
  cluster: string
  namespace: string
  pod: string
  client: ClusterClient
}

/** What a sample reader returns: samples of the pods it could read, and the rest as unreadable. */
export interface SampleReading {
  samples: PodSamples[]
  unreadable?: Unreadable[]
  /** Requests it made (API server or Prometheus), for the figures. */
  requests?: number
}

/** Where samples come from: by default each pod's proxy through its API server; `--prometheus-url` plugs in here. */
export type SampleReader = (pods: ProxyPod[]) => Promise<PodSamples[] | SampleReading>

export interface StatsOptions {
  mgmt: ClusterClient
  /** --service CLUSTER/NS/SVC */
  service?: string
  /** --source SELECTOR */
  source?: string
  /** Pod reads in flight at once, over all clusters. */
  concurrency?: number
  /** Per pod read; default DEFAULT_POD_TIMEOUT_MS, or --request-timeout when set. */
  podTimeoutMs?: number
  read?: SampleReader
}

export interface StatsReading {
  /** When the reading finished (RFC 3339). */
  at: string
  rows: StatsRow[]
  /** Proxies found (pods with an Istio sidecar or gateway proxy) and how many of them were read. */
  proxies: number
  read: number
  unreadable: Unreadable[]
  /** Requests this reading made (lists, mesh configs, one per proxy). */
  requests: number
  /** Wall time of this reading, in milliseconds. */
  elapsedMs: number
  /** --watch: seconds since the previous reading (deltas and rates are over it). */
  intervalSeconds?: number
}

export interface StatsSession {
  /** Reads every cluster now; from the second call on, rows carry deltas and rates since the previous call. */
  read(): Promise<StatsReading>
  /** Requests made by opening the session (the registry on the management cluster). */
  readonly openRequests: number
}

/**
 * Opens a stats session: checks --source, reads the registry once. The first read() checks --service against the
 * clusters' Services (a UsageError, exit 2, names the nearest ones) before any proxy is read.
 */
export async function openStats(options: StatsOptions): Promise<StatsSession> {
  const selector: LabelSelector | undefined = options.source === undefined ? undefined : parseLabelSelector(options.source, '--source')
  const registry = await readRegisteredClusters(options.mgmt, options.mgmt.options)
  const openRequests = 1 + registry.clusters.length + registry.unusable.length
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_STATS_CONCURRENCY)
  const podTimeoutMs = options.podTimeoutMs ?? (options.mgmt.options.requestTimeoutMs || DEFAULT_POD_TIMEOUT_MS)
  const read = options.read ?? podProxyReader({concurrency, timeoutMs: podTimeoutMs})
  let previous: {rows: PodRow[]; readPods: Set<string>; at: number} | undefined
  let filter: StatsFilter | undefined

  return {
    openRequests,
    async read(): Promise<StatsReading> {
      const started = Date.now()
      const unreadable: Unreadable[] = registry.unusable.map((u) => ({cluster: u.name, reason: u.message}))
      const clusters = await Promise.all(registry.clusters.map((c) => readCluster(c)))
      let requests = clusters.reduce((n, c) => n + c.requests, 0)
      const world: StatsWorld = {clusters: [], pods: [], services: []}
      const proxies: ProxyPod[] = []
      for (const c of clusters) {
        if (c.error !== undefined) {
          unreadable.push({cluster: c.cluster.name, reason: c.error})
          continue
        }
        world.clusters.push({name: c.cluster.name, trustDomain: c.trustDomain, clusterDomain: c.cluster.clusterDomain})
        world.pods.push(...c.pods)
        world.services.push(...c.services)
        for (const p of c.pods) if (p.proxy) proxies.push({cluster: p.cluster, namespace: p.namespace, pod: p.name, client: c.cluster.client})
      }
      if (!filter) {
        const unreadableClusters = Object.fromEntries(unreadable.filter((u) => !u.pod).map((u) => [u.cluster, u.reason]))
        filter = {
          ...(options.service === undefined ? {} : {service: parseServiceRef(options.service, world, unreadableClusters)}),
          ...(selector ? {source: selector} : {}),
        }
      }
      const answer = await read(proxies)
      const reading: SampleReading = Array.isArray(answer) ? {samples: answer} : answer
      unreadable.push(...(reading.unreadable ?? []))
      requests += reading.requests ?? 0
      const rows = filterRows(podRows(world, reading.samples), filter)
      const now = Date.now()
      const readPods = new Set(reading.samples.map((s) => `${s.cluster}/${s.namespace}/${s.pod}`))
      const seconds = previous ? (now - previous.at) / 1000 : undefined
      const table = aggregateRows(rows, previous && {rows: previous.rows, readPods: previous.readPods, seconds: seconds!})
      previous = {rows, readPods, at: now}
      return {
        at: new Date(now).toISOString(), rows: table, proxies: proxies.length, read: reading.samples.length,
        unreadable: unreadable.sort((a, b) => cmpUnreadable(a, b)), requests, elapsedMs: now - started,
        ...(seconds === undefined ? {} : {intervalSeconds: Math.round(seconds * 1000) / 1000}),
      }
    },
  }
}

/** One reading, no watch: what `kubectl smh stats` prints. */
export async function readStats(options: StatsOptions): Promise<StatsReading> {
  const session = await openStats(options)
  const reading = await session.read()
  return {...reading, requests: reading.requests + session.openRequests}
}

const cmpUnreadable = (a: Unreadable, b: Unreadable) => {
  const ka = `${a.cluster}/${a.namespace ?? ''}/${a.pod ?? ''}`
  const kb = `${b.cluster}/${b.namespace ?? ''}/${b.pod ?? ''}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

interface PodObject {
  metadata?: {name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: {kind?: string; name?: string; controller?: boolean}[]}
  spec?: {serviceAccountName?: string; containers?: {name: string}[]; initContainers?: {name: string}[]}
  status?: {phase?: string; podIP?: string}
}

interface ServiceObject {
  metadata?: {name?: string; namespace?: string}
  spec?: {selector?: Record<string, string>}
}

interface ClusterRead {
  cluster: RegisteredCluster
  error?: string
  pods: StatsPod[]
  services: StatsWorld['services']
  trustDomain: string
  requests: number
}

/**
 * An Istio proxy runs in the pod: a container `istio-proxy` (the injected sidecar, or a gateway's only container),
 * or an init container of that name (native sidecars, Kubernetes ≥ 1.29), and the pod runs with an address.
 */
export function hasIstioProxy(pod: PodObject): boolean {
  const named = (list?: {name: string}[]) => (list ?? []).some((c) => c.name === 'istio-proxy')
  return (named(pod.spec?.containers) || named(pod.spec?.initContainers)) && pod.status?.phase === 'Running' && Boolean(pod.status?.podIP)
}

const pages = (n: number) => Math.max(1, Math.ceil(n / LIST_PAGE_SIZE))

/** One cluster's pods, Services and trust domain (the `istio` ConfigMaps of the namespaces istiod runs in). */
async function readCluster(cluster: RegisteredCluster): Promise<ClusterRead> {
  const {client} = cluster
  try {
    const [pods, services] = await Promise.all([
      listAll(client, 'v1', 'Pod') as Promise<PodObject[]>,
      listAll(client, 'v1', 'Service') as Promise<ServiceObject[]>,
    ])
    let requests = pages(pods.length) + pages(services.length)
    // The mesh config sits beside istiod (`istio`, or `istio-<rev>` for a revision); the registration may read it there.
    const istiods = pods.filter((p) => p.metadata?.labels?.app === 'istiod' || p.metadata?.labels?.istio === 'pilot')
    const configMaps = [...new Set((istiods.length ? istiods : [{metadata: {namespace: 'istio-system', labels: {}}}] as PodObject[]).map((p) => {
      const rev = p.metadata?.labels?.['istio.io/rev']
      return `${p.metadata?.namespace}/${rev && rev !== 'default' ? `istio-${rev}` : 'istio'}`
    }))].sort()
    let trustDomain = 'cluster.local'
    for (const key of configMaps) {
      const [namespace, name] = key.split('/')
      requests++
      const configMap = await client.readIfExists<{apiVersion: string; kind: string; metadata: {name: string}; data?: Record<string, string>}>({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}}).catch(() => undefined)
      if (configMap?.data?.mesh) {
        trustDomain = trustDomainOf(parseYaml(configMap.data.mesh))
        break
      }
    }
    return {
      cluster, trustDomain, requests,
      pods: pods.map((p) => ({
        cluster: cluster.name, namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', labels: p.metadata?.labels ?? {},
        serviceAccount: p.spec?.serviceAccountName ?? 'default', workload: workloadOf(p), proxy: hasIstioProxy(p),
      })),
      services: services.map((s) => ({cluster: cluster.name, namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '', selector: s.spec?.selector ?? {}})),
    }
  } catch (error) {
    return {cluster, error: client.describe(error), pods: [], services: [], trustDomain: 'cluster.local', requests: 1}
  }
}

/**
 * The metrics stats needs, asked of Envoy itself (`usedonly`: counters never touched are left out; `filter`: only
 * request counters), so a sidecar answers a few KB instead of hundreds. Proxies that ignore the parameters answer
 * everything, which the parser then skips.
 */
export const STATS_QUERY = `usedonly&filter=${encodeURIComponent('upstream_rq_(total|[0-9]{3})$|istio_requests_total')}`

/** The default reader: `GET /api/v1/namespaces/NS/pods/NAME:15090/proxy/stats/prometheus` per proxy, `concurrency` at once. */
export function podProxyReader(options: {concurrency: number; timeoutMs: number}): SampleReader {
  return async (pods) => {
    const samples: PodSamples[] = []
    const unreadable: Unreadable[] = []
    await eachLimited(pods, options.concurrency, async (pod) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.pod)}:${STATS_PORT}/proxy/stats/prometheus?${STATS_QUERY}`
      try {
        const text = await pod.client.objects.getText(path, {timeoutMs: options.timeoutMs})
        samples.push({cluster: pod.cluster, namespace: pod.namespace, pod: pod.pod, samples: parseExposition(text, {keep: isStatsMetric})})
      } catch (error) {
        unreadable.push({cluster: pod.cluster, namespace: pod.namespace, pod: pod.pod, reason: reasonOf(pod, error)})
      }
    })
    return {samples, unreadable, requests: pods.length}
  }
}

/** Why one proxy could not be read, in one line (without the cluster prefix: the entry names it). */
function reasonOf(pod: ProxyPod, error: unknown): string {
  const line = (error as Error)?.name === 'ExpositionError' ? `its stats are not Prometheus text (${(error as Error).message})` : pod.client.describe(error).replace(/^cluster "[^"]*": /, '')
  return /forbidden/.test(line) ? `${line} (stats needs get on pods/proxy: re-register the cluster with this version of kubectl smh)` : line
}

/** Runs fn over items with at most `limit` running at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++])
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
}
