/**
 * `kubectl smh stats` (issue 10), the model: the samples each proxy exposed (src/observe/stats-samples.ts) plus the
 * pods, services and trust domains of the registered clusters → the seed's table: requests by response code, source
 * principal, target principal, target version, and the cluster that served. Pure: no I/O, no clock.
 *
 * Two kinds of proxies, so three sources of rows (each row says which):
 * - `istio`: Istio's proxies count every request in `istio_requests_total` (Istio's standard metrics), once on the
 *   client (`reporter="source"`) and once on the server (`reporter="destination"`). Source reports are used; a
 *   destination report only when no pod of its source workload was read, so nothing is counted twice.
 * - `envoy-outbound`, `envoy-inbound`: upstream Envoy (the demo's data plane) has no Istio stats plugin, so its own
 *   per-cluster counters are read: `cluster.<name>.upstream_rq_<code>` and `upstream_rq_total`. An outbound cluster
 *   (`outbound|PORT|SUBSET|HOST`) names the service called and, through its host, the cluster that served it: the
 *   local `*.svc.<cluster domain>` is the client's own cluster, a federated `NAME.NS.svc.CLUSTER.global` is CLUSTER.
 *   The inbound cluster (`inbound|PORT||`) counts what a server pod's sidecar passed to its app: the target is the
 *   pod itself (its principal, version and cluster); who sent it is unknown, so the source principal is empty.
 */
import {closeNames} from '../nearest.js'
import {UsageError} from '../errors.js'
import {type LabelSelector, matchesSelector} from './label-selector.js'
import type {PodSamples, Sample} from './stats-samples.js'

export {parseExposition, ExpositionError} from './exposition.js'
export {parseLabelSelector, matchesSelector, type LabelSelector} from './label-selector.js'

export type RowSource = 'istio' | 'envoy-outbound' | 'envoy-inbound'

/** The metric names stats reads; everything else in a proxy's exposition is skipped while parsing. */
export const ISTIO_REQUESTS = 'istio_requests_total'

/** Whether a metric name is one stats reads (Istio's request counter or Envoy's per-cluster request counters). */
export function isStatsMetric(name: string): boolean {
  return name === ISTIO_REQUESTS || ENVOY_RQ.test(name)
}

/**
 * Envoy's per-cluster request counters as Prometheus names them. Envoy cuts the cluster name into the tag
 * `envoy_cluster_name` at its first dot unless the bootstrap says otherwise (Istio's does; upstream Envoy's default
 * does not), and the rest of the name lands in the metric name with dots (and `;`, Istio's stat-name terminator) as
 * underscores: `envoy_cluster_default_svc_kind3_global__upstream_rq_total{envoy_cluster_name="outbound|9080||reviews"}`
 * is `cluster.outbound|9080||reviews.default.svc.kind3.global;.upstream_rq_total`.
 */
const ENVOY_RQ = /^envoy_cluster_(?:(.*)_)?upstream_rq(_total)?$/

export interface StatsPod {
  cluster: string
  namespace: string
  name: string
  labels: Record<string, string>
  serviceAccount: string
  /** Its workload as Istio names it in `source_workload`: the Deployment (ReplicaSet minus its hash), else the owner, else the pod. */
  workload: string
  /** Runs an Istio sidecar or gateway proxy: stats reads its :15090/stats/prometheus. */
  proxy: boolean
}

export interface StatsService {
  cluster: string
  namespace: string
  name: string
  selector: Record<string, string>
}

export interface StatsCluster {
  name: string
  /** The mesh config's `trustDomain` (the `istio` ConfigMap), `cluster.local` if unset. */
  trustDomain: string
  /** The registration's cluster domain (`cluster.local`): local service hosts end in `.svc.<domain>`. */
  clusterDomain: string
}

/** What the clusters look like: the facts rows are built from, besides the samples. */
export interface StatsWorld {
  clusters: StatsCluster[]
  pods: StatsPod[]
  services: StatsService[]
}

/** One row as one pod's proxy reported it (before rows of several pods are added up). */
export interface PodRow {
  /** `cluster/namespace/pod` of the proxy that counted it. */
  reporter: string
  source: RowSource
  requests: number
  /** HTTP response code; empty when the proxy counted the request but not its code (see README). */
  code: string
  sourceCluster: string
  sourcePrincipal: string
  /** `namespace/name` of the Service called, or the host when it is no Kubernetes Service (a ServiceEntry, a failover host). */
  targetService: string
  /** The cluster that served it; empty when the counter does not say. */
  targetCluster: string
  targetPrincipal: string
  targetVersion: string
  /** Labels of the client pod, for --source; undefined when the client is unknown (inbound counters). */
  clientLabels?: Record<string, string>
}

/** One line of the table: pod rows with the same columns added up. */
export interface StatsRow {
  requests: number
  code: string
  sourcePrincipal: string
  targetPrincipal: string
  targetVersion: string
  targetCluster: string
  targetService: string
  sourceCluster: string
  source: RowSource
  /** --watch: requests counted since the previous reading, and per second. */
  delta?: number
  rate?: number
}

export interface StatsFilter {
  /** --service CLUSTER/NS/SVC */
  service?: {cluster: string; namespace: string; name: string}
  /** --source SELECTOR, on the client pods' labels. */
  source?: LabelSelector
}

export const principalOf = (trustDomain: string, namespace: string, serviceAccount: string) => `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount || 'default'}`
export const versionOf = (labels: Record<string, string>) => labels.version ?? labels['app.kubernetes.io/version'] ?? ''
const podKey = (p: {cluster: string; namespace: string; name?: string; pod?: string}) => `${p.cluster}/${p.namespace}/${p.name ?? p.pod}`
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)

/** Lookups over the world, built once per reading. */
class Index {
  readonly clusters: Map<string, StatsCluster>
  private readonly pods: Map<string, StatsPod>
  /** `first label of the host|the rest as Envoy sanitizes it` → host, to undo Envoy's name mangling exactly. */
  private readonly sanitizedHosts = new Map<string, string>()

  constructor(readonly world: StatsWorld) {
    this.clusters = new Map(world.clusters.map((c) => [c.name, c]))
    this.pods = new Map(world.pods.map((p) => [podKey(p), p]))
    for (const s of world.services) {
      for (const host of [`${s.name}.${s.namespace}.svc.${this.clusters.get(s.cluster)?.clusterDomain ?? 'cluster.local'}`, `${s.name}.${s.namespace}.svc.${s.cluster}.global`]) {
        const dot = host.indexOf('.')
        this.sanitizedHosts.set(`${host.slice(0, dot)}|${sanitize(host.slice(dot + 1))}`, host)
      }
    }
  }

  pod(cluster: string, namespace: string, name: string): StatsPod | undefined {
    return this.pods.get(`${cluster}/${namespace}/${name}`)
  }

  trustDomain(cluster: string): string {
    return this.clusters.get(cluster)?.trustDomain ?? 'cluster.local'
  }

  /** A registered cluster by the name Istio gave it (`destination_cluster`), else by the trust domain of a principal. */
  clusterFor(istioCluster: string | undefined, principal: string): string | undefined {
    if (istioCluster && this.clusters.has(istioCluster)) return istioCluster
    const domain = /^spiffe:\/\/([^/]+)\//.exec(principal)?.[1]
    if (!domain) return undefined
    const named = this.world.clusters.filter((c) => c.trustDomain === domain)
    return named.length === 1 ? named[0].name : undefined
  }

  /** The Service and cluster a host names, seen from a client in `clientCluster`. */
  hostTarget(host: string, clientCluster: string): {service: string; cluster: string} {
    const parts = host.split('.')
    const domain = this.clusters.get(clientCluster)?.clusterDomain ?? 'cluster.local'
    if (parts.length >= 3 && parts[2] === 'svc' && parts.slice(3).join('.') === domain) return {service: `${parts[1]}/${parts[0]}`, cluster: clientCluster}
    if (parts.length === 5 && parts[2] === 'svc' && parts[4] === 'global' && this.clusters.has(parts[3])) return {service: `${parts[1]}/${parts[0]}`, cluster: parts[3]}
    return {service: host, cluster: ''}
  }

  /** The host Envoy split into a tag (up to its first dot) and a sanitized rest. */
  unsanitizeHost(firstLabel: string, rest: string): string {
    return this.sanitizedHosts.get(`${firstLabel}|${rest}`) ?? `${firstLabel}.${rest.replace(/_/g, '.')}`
  }

  /** The pods a Service selects in one cluster (a subset narrows by version). */
  backing(cluster: string, service: string, subset: string): StatsPod[] {
    const [namespace, name] = service.split('/')
    const svc = this.world.services.find((s) => s.cluster === cluster && s.namespace === namespace && s.name === name)
    if (!svc) return []
    return this.world.pods.filter((p) => p.cluster === cluster && p.namespace === namespace && selects(svc.selector, p.labels) && (!subset || versionOf(p.labels) === subset))
  }

  /** The Services that select a pod, `namespace/name`, by name. */
  servicesOf(pod: StatsPod): string[] {
    return this.world.services.filter((s) => s.cluster === pod.cluster && s.namespace === pod.namespace && selects(s.selector, pod.labels)).map((s) => `${s.namespace}/${s.name}`).sort()
  }

  principal(pod: StatsPod): string {
    return principalOf(this.trustDomain(pod.cluster), pod.namespace, pod.serviceAccount)
  }
}

/** Envoy's Prometheus name sanitizing: anything but [a-zA-Z0-9_:] becomes `_`. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, '_')

const unknownToEmpty = (v: string | undefined) => (v === undefined || v === 'unknown' ? '' : v)

/** Istio's principals carry `spiffe://` since 1.x; older proxies wrote `cluster.local/ns/...`. */
function normalPrincipal(value: string | undefined): string {
  const v = unknownToEmpty(value)
  return v && !v.startsWith('spiffe://') && v.includes('/ns/') ? `spiffe://${v}` : v
}

/**
 * Every row each pod's samples give, before filters. Pods whose samples hold `istio_requests_total` give `istio`
 * rows only (their Envoy counters count the same requests again); the others give Envoy rows.
 */
export function podRows(world: StatsWorld, read: PodSamples[]): PodRow[] {
  const index = new Index(world)
  const istioReporters = new Set<string>()
  for (const pod of read) {
    const facts = index.pod(pod.cluster, pod.namespace, pod.pod)
    if (pod.samples.some((s) => s.name === ISTIO_REQUESTS && s.labels.reporter === 'source') && facts) istioReporters.add(`${pod.cluster}/${pod.namespace}/${facts.workload}`)
  }
  const rows: PodRow[] = []
  for (const pod of read) {
    const facts = index.pod(pod.cluster, pod.namespace, pod.pod) ?? {cluster: pod.cluster, namespace: pod.namespace, name: pod.pod, labels: {}, serviceAccount: 'default', workload: pod.pod, proxy: true}
    const istio = pod.samples.filter((s) => s.name === ISTIO_REQUESTS)
    if (istio.length) rows.push(...istioRows(index, facts, istio, istioReporters))
    else rows.push(...envoyRows(index, facts, pod.samples))
  }
  return rows.filter((r) => r.requests > 0)
}

function istioRows(index: Index, pod: StatsPod, samples: Sample[], istioReporters: Set<string>): PodRow[] {
  const rows: PodRow[] = []
  const reporter = podKey(pod)
  for (const {labels: l, value} of samples) {
    if (!Number.isFinite(value)) continue
    const sourcePrincipal = normalPrincipal(l.source_principal)
    const targetPrincipal = normalPrincipal(l.destination_principal)
    const host = unknownToEmpty(l.destination_service)
    const service = l.destination_service_name && l.destination_service_namespace && l.destination_service_name !== 'unknown' && !l.destination_service_name.includes('.')
      ? `${l.destination_service_namespace}/${l.destination_service_name}`
      : undefined
    if (l.reporter === 'source') {
      const hosted = host ? index.hostTarget(host, pod.cluster) : {service: '', cluster: ''}
      rows.push({
        reporter, source: 'istio', requests: value, code: l.response_code ?? '',
        sourceCluster: pod.cluster, sourcePrincipal: sourcePrincipal || index.principal(pod),
        targetService: service ?? hosted.service,
        targetCluster: index.clusterFor(l.destination_cluster, targetPrincipal) ?? (hosted.cluster || unknownToEmpty(l.destination_cluster)),
        targetPrincipal, targetVersion: unknownToEmpty(l.destination_version), clientLabels: pod.labels,
      })
    } else if (l.reporter === 'destination') {
      const sourceCluster = index.clusterFor(l.source_cluster, sourcePrincipal) ?? unknownToEmpty(l.source_cluster)
      const sourceWorkload = `${sourceCluster}/${l.source_workload_namespace}/${l.source_workload}`
      // The client's own sidecar reported the same requests (reporter="source"): count them once, from there.
      if (istioReporters.has(sourceWorkload)) continue
      const clientPod = index.world.pods.find((p) => `${p.cluster}/${p.namespace}/${p.workload}` === sourceWorkload)
      rows.push({
        reporter, source: 'istio', requests: value, code: l.response_code ?? '',
        sourceCluster, sourcePrincipal,
        targetService: service ?? (host ? index.hostTarget(host, pod.cluster).service : index.servicesOf(pod)[0] ?? ''),
        targetCluster: pod.cluster, targetPrincipal: targetPrincipal || index.principal(pod),
        targetVersion: unknownToEmpty(l.destination_version) || versionOf(pod.labels),
        clientLabels: clientPod?.labels ?? (l.source_app ? {app: l.source_app, ...(l.source_version ? {version: l.source_version} : {})} : undefined),
      })
    }
  }
  return rows
}

/** Envoy's full cluster name of a request counter, undoing the name mangling; undefined for counters not kept. */
function envoyClusterName(index: Index, sample: Sample): {cluster: string; total: boolean} | undefined {
  const match = ENVOY_RQ.exec(sample.name)
  const tag = sample.labels.envoy_cluster_name
  if (!match || tag === undefined) return undefined
  const rest = match[1]
  // `external.`, `internal.`, `canary.` repeat the same requests split another way; zone stats likewise.
  if (rest !== undefined && /(^|_)(external|internal|canary)_*$|(^|_)zone_/.test(rest)) return undefined
  let name = tag
  if (rest) {
    const bar = tag.lastIndexOf('|')
    name = `${tag.slice(0, bar + 1)}${index.unsanitizeHost(tag.slice(bar + 1), rest.replace(/_+$/, ''))}`
  }
  return {cluster: name.replace(/;$/, ''), total: match[2] !== undefined}
}

function envoyRows(index: Index, pod: StatsPod, samples: Sample[]): PodRow[] {
  const codes = new Map<string, Map<string, number>>()
  const totals = new Map<string, number>()
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue
    const named = envoyClusterName(index, sample)
    if (!named) continue
    if (named.total) totals.set(named.cluster, (totals.get(named.cluster) ?? 0) + sample.value)
    else if (sample.labels.envoy_response_code) {
      const perCode = codes.get(named.cluster) ?? new Map<string, number>()
      codes.set(named.cluster, perCode)
      perCode.set(sample.labels.envoy_response_code, (perCode.get(sample.labels.envoy_response_code) ?? 0) + sample.value)
    }
  }
  const rows: PodRow[] = []
  const reporter = podKey(pod)
  const own = index.principal(pod)
  for (const cluster of [...new Set([...codes.keys(), ...totals.keys()])].sort()) {
    const parsed = /^(inbound|outbound)\|(\d*)\|([^|]*)\|(.*)$/.exec(cluster)
    if (!parsed) continue // BlackHoleCluster, PassthroughCluster, the proxy's own clusters
    const [, direction, , subset, host] = parsed
    const perCode = codes.get(cluster) ?? new Map<string, number>()
    const total = totals.get(cluster)
    const counted = [...perCode.values()].reduce((a, b) => a + b, 0)
    // Behind an aggregate (failover) cluster Envoy charges the response codes to the aggregate, the request to the
    // cluster that sent it: that cluster's requests beyond its own codes are shown with an empty code.
    const byCode: [string, number][] = [...perCode.entries()]
    if (total !== undefined && total > counted) byCode.push(['', total - counted])
    if (direction === 'inbound') {
      for (const [code, requests] of byCode) {
        rows.push({reporter, source: 'envoy-inbound', requests, code, sourceCluster: '', sourcePrincipal: '',
          targetService: host ? index.hostTarget(host, pod.cluster).service : index.servicesOf(pod)[0] ?? '',
          targetCluster: pod.cluster, targetPrincipal: own, targetVersion: versionOf(pod.labels)})
      }
      continue
    }
    // An aggregate cluster counts codes and no requests of its own: it names no serving cluster.
    const aggregate = total === undefined || total === 0
    const target = aggregate ? {service: host, cluster: ''} : index.hostTarget(host, pod.cluster)
    const backing = target.cluster ? index.backing(target.cluster, target.service, subset) : []
    const principals = [...new Set(backing.map((p) => index.principal(p)))]
    const versions = [...new Set(backing.map((p) => versionOf(p.labels)))]
    for (const [code, requests] of byCode) {
      rows.push({reporter, source: 'envoy-outbound', requests, code, sourceCluster: pod.cluster, sourcePrincipal: own,
        targetService: target.service, targetCluster: target.cluster,
        // What the counter cannot say is taken from the pods behind the service there, when they agree.
        targetPrincipal: principals.length === 1 ? principals[0] : '',
        targetVersion: subset || (versions.length === 1 ? versions[0] : ''),
        clientLabels: pod.labels})
    }
  }
  return rows
}

/** Rows that pass --service and --source. */
export function filterRows(rows: PodRow[], filter: StatsFilter): PodRow[] {
  return rows.filter((r) => {
    if (filter.service) {
      const {cluster, namespace, name} = filter.service
      if (r.targetService !== `${namespace}/${name}`) return false
      // Served by it, or sent to it by that cluster's clients and served elsewhere (failover, shift).
      if (r.targetCluster !== cluster && r.sourceCluster !== cluster) return false
    }
    if (filter.source && (!r.clientLabels || !matchesSelector(filter.source, r.clientLabels))) return false
    return true
  })
}

const rowKey = (r: PodRow | StatsRow) => [r.source, r.code, r.sourceCluster, r.sourcePrincipal, r.targetService, r.targetCluster, r.targetPrincipal, r.targetVersion].join('\u0000')
const SOURCE_ORDER: Record<RowSource, number> = {istio: 0, 'envoy-outbound': 1, 'envoy-inbound': 2}

/**
 * Pod rows added up into table rows, sorted as the seed's table (by target, then source, then code). With the
 * previous reading's pod rows, each row also gets its delta and rate: a pod's counters count only from pods read
 * both times (a pod read now but not before started its counters at an unknown time), and a counter that went down
 * (its proxy restarted) counts from zero.
 */
export function aggregateRows(rows: PodRow[], previous?: {rows: PodRow[]; readPods: ReadonlySet<string>; seconds: number}): StatsRow[] {
  const before = new Map<string, number>()
  if (previous) for (const r of previous.rows) before.set(`${r.reporter}\u0000${rowKey(r)}`, r.requests)
  const table = new Map<string, StatsRow>()
  for (const r of rows) {
    const key = rowKey(r)
    let row = table.get(key)
    if (!row) {
      row = {requests: 0, code: r.code, sourcePrincipal: r.sourcePrincipal, targetPrincipal: r.targetPrincipal, targetVersion: r.targetVersion,
        targetCluster: r.targetCluster, targetService: r.targetService, sourceCluster: r.sourceCluster, source: r.source, ...(previous ? {delta: 0, rate: 0} : {})}
      table.set(key, row)
    }
    row.requests += r.requests
    if (previous && previous.readPods.has(r.reporter)) {
      const was = before.get(`${r.reporter}\u0000${key}`) ?? 0
      row.delta! += r.requests >= was ? r.requests - was : r.requests
    }
  }
  const result = [...table.values()].filter((r) => r.requests > 0)
  if (previous) for (const r of result) r.rate = previous.seconds > 0 ? Math.round((r.delta! / previous.seconds) * 100) / 100 : 0
  const codeOrder = (c: string) => (c === '' ? 1000 : Number(c))
  return result.sort((a, b) => cmp(a.targetService, b.targetService) || cmp(a.targetCluster, b.targetCluster) || cmp(a.targetPrincipal, b.targetPrincipal)
    || cmp(a.targetVersion, b.targetVersion) || SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source] || cmp(a.sourceCluster, b.sourceCluster)
    || cmp(a.sourcePrincipal, b.sourcePrincipal) || codeOrder(a.code) - codeOrder(b.code))
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** --service CLUSTER/NS/SVC, checked against the clusters' Services: unknown is a UsageError with the nearest names. */
export function parseServiceRef(value: string, world: StatsWorld, unreadableClusters: Record<string, string> = {}): {cluster: string; namespace: string; name: string} {
  const parts = value.split('/')
  if (parts.length !== 3 || parts.some((p) => p === '')) throw new UsageError(`--service "${value}" is not CLUSTER/NS/SVC: e.g. --service kind2/default/reviews`)
  const [cluster, namespace, name] = parts
  const refs = world.services.map((s) => `${s.cluster}/${s.namespace}/${s.name}`)
  if (refs.includes(value)) return {cluster, namespace, name}
  if (unreadableClusters[cluster]) throw new UsageError(`--service ${value}: cluster ${cluster} could not be read (${unreadableClusters[cluster]})`)
  if (!world.clusters.some((c) => c.name === cluster)) {
    const near = closeNames(cluster, world.clusters.map((c) => c.name))
    throw new UsageError(`--service ${value}: no registered cluster ${cluster}${near.length ? `; nearest: ${near.join(', ')}` : `; registered: ${world.clusters.map((c) => c.name).join(', ') || 'none'}`}`)
  }
  const near = closeNames(value, refs)
  throw new UsageError(`--service ${value}: no such Service${near.length ? `; nearest: ${near.join(', ')}` : refs.length ? `; there are: ${refs.slice(0, 5).join(', ')}${refs.length > 5 ? ', ...' : ''}` : '; there are none'}`)
}

/** The trust domain of a mesh config (the `mesh` key of Istio's `istio` ConfigMap, YAML), `cluster.local` if unset. */
export function trustDomainOf(meshConfig: unknown): string {
  const domain = (meshConfig as {trustDomain?: unknown} | undefined)?.trustDomain
  return typeof domain === 'string' && domain !== '' ? domain : 'cluster.local'
}

/** Istio's workload name of a pod: its Deployment (the ReplicaSet's name without the pod-template-hash), else its owner, else itself. */
export function workloadOf(pod: {metadata?: {name?: string; labels?: Record<string, string>; ownerReferences?: {kind?: string; name?: string; controller?: boolean}[]}}): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0]
  const name = pod.metadata?.name ?? ''
  if (!owner?.name) return name
  const hash = pod.metadata?.labels?.['pod-template-hash']
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1)
  if (owner.kind === 'Job') return owner.name.replace(/-\d+$/, '')
  return owner.name
}
