/**
 * `kubectl smh stats --prometheus-url` (issue 10), the pure part: the PromQL instant query for the metrics the stats
 * model reads, and Prometheus's answer (`/api/v1/query`, an instant vector) turned into the samples each pod's proxy
 * exposed (src/observe/stats-samples.ts), as if read from the pod's own `/stats/prometheus`. Pure.
 *
 * Which labels say the cluster, namespace and pod a series came from is the scrape config's choice: by default
 * `cluster`, `namespace` and `pod`. Istio's recommended scrape config (job `envoy-stats`, or `kubernetes-pods` with
 * metrics merging) sets `namespace` and `pod`; `cluster` is one more target label each cluster's job adds (a relabel
 * with `target_label: cluster`), or an external label a Thanos or federation layer adds. Those labels, and
 * Prometheus's own bookkeeping (`__name__`, `job`, `instance`), are not the metric's: they are dropped, and a metric
 * label Prometheus renamed to `exported_<name>` because a target label took its name (honor_labels: false) gets its
 * name back, so the labels are exactly the ones the proxy exposed, but for one rule of Prometheus's data model: a
 * label with an empty value is no label (Istio's `grpc_response_status=""` on HTTP requests is not in the series), so
 * the stats model must read a missing label as "".
 */
import type {PodSamples, Sample} from './stats-samples.js'

/**
 * The metrics the stats model reads, as RE2 patterns of metric names (PromQL `__name__=~`, anchored): Istio's
 * standard request counter, and Envoy's per-cluster request counters. Envoy names the latter after the cluster: with
 * Istio's bootstrap stats tags `envoy_cluster_upstream_rq{envoy_cluster_name="outbound|9080||reviews.default.svc.cluster.local"}`,
 * with upstream Envoy's default tags (the demo's data plane) the name keeps the cluster name's tail after its first
 * dot: `envoy_cluster_default_svc_cluster_local__upstream_rq{envoy_cluster_name="outbound|9080||reviews"}`, and
 * `..._upstream_rq_total`. The same set as the stats model's isStatsMetric.
 */
export const STATS_METRICS = ['istio_requests_total', 'envoy_cluster_(?:.*_)?upstream_rq(?:_total)?'] as const

/** The label names that say where a series was scraped. */
export interface PodLabelNames {
  cluster: string
  namespace: string
  pod: string
}

export const DEFAULT_POD_LABELS: PodLabelNames = {cluster: 'cluster', namespace: 'namespace', pod: 'pod'}

/** Prometheus's own labels on every scraped series (the metric name, the scrape job and target). */
export const BOOKKEEPING_LABELS = ['__name__', 'job', 'instance'] as const

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A metric name pattern that is empty or no regular expression, else undefined. */
export function badMetricPattern(patterns: readonly string[]): string | undefined {
  return patterns.find((p) => {
    if (p === '') return true
    try {
      new RegExp(p) // eslint-disable-line no-new
      return false
    } catch {
      return true
    }
  })
}

/** Whether a metric name is one of the patterns (anchored, as PromQL's =~). */
export function metricMatcher(patterns: readonly string[]): (name: string) => boolean {
  const re = new RegExp(`^(?:${patterns.join('|')})$`)
  return (name) => re.test(name)
}

/** A label name that is not one, else undefined. */
export function badLabelName(names: readonly string[]): string | undefined {
  return names.find((n) => !LABEL_NAME.test(n))
}

/**
 * One instant query for all the metrics, `{__name__=~"istio_requests_total|envoy_cluster_(?:.*_)?upstream_rq(?:_total)?"}`,
 * so every series is read at one evaluation time, in one request; a single metric name is queried by its name.
 */
export function statsQuery(patterns: readonly string[]): string {
  if (patterns.length === 1 && METRIC_NAME.test(patterns[0])) return patterns[0]
  const literal = patterns.join('|').replace(/\\/g, '\\\\').replace(/"/g, '\\"')
  return `{__name__=~"${literal}"}`
}

/** One series of an instant vector, as Prometheus's HTTP API returns it. */
export interface VectorSeries {
  metric: Record<string, string>
  /** [unix seconds, the value as Go formats a float: "12", "0.5", "NaN", "+Inf", "-Inf"] */
  value: [number, string]
}

/** Why an answer is not a usable one (the caller adds which server and what to do). */
export class PrometheusAnswerError extends Error {
  constructor(message: string, readonly kind: 'error' | 'shape') {
    super(message)
    this.name = 'PrometheusAnswerError'
  }
}

/** A sample value as Prometheus's API writes it (Go's strconv.FormatFloat, 'f', -1). */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  const n = Number(text)
  if (text.trim() === '' || Number.isNaN(n)) throw new PrometheusAnswerError(`a sample value is "${text}", not a number`, 'shape')
  return n
}

/**
 * The series of an `/api/v1/query` answer (its JSON body): `{status: "success", data: {resultType: "vector",
 * result: [{metric, value}]}}`. An `{status: "error", errorType, error}` answer, or any other shape, throws.
 */
export function vectorOf(body: unknown): VectorSeries[] {
  const b = body as {status?: unknown; data?: {resultType?: unknown; result?: unknown}; errorType?: unknown; error?: unknown} | null
  if (!b || typeof b !== 'object' || (b.status !== 'success' && b.status !== 'error')) throw new PrometheusAnswerError('the answer has no "status": it is not from Prometheus\'s HTTP API', 'shape')
  if (b.status === 'error') throw new PrometheusAnswerError(`${String(b.errorType ?? 'error')}: ${String(b.error ?? 'no message')}`, 'error')
  if (!b.data || typeof b.data !== 'object') throw new PrometheusAnswerError('a "success" answer without "data"', 'shape')
  if (b.data.resultType !== 'vector') throw new PrometheusAnswerError(`the query gave a ${String(b.data.resultType)}, not an instant vector`, 'shape')
  if (!Array.isArray(b.data.result)) throw new PrometheusAnswerError('the vector\'s "result" is not a list', 'shape')
  for (const s of b.data.result as VectorSeries[]) {
    const ok = s && typeof s === 'object' && s.metric && typeof s.metric === 'object' && Array.isArray(s.value) && s.value.length === 2 && typeof s.value[1] === 'string'
    if (!ok) throw new PrometheusAnswerError(`a series is not {metric, value: [time, "value"]}: ${JSON.stringify(s).slice(0, 200)}`, 'shape')
  }
  return b.data.result as VectorSeries[]
}

export interface GroupOptions {
  /** Which labels name the series' cluster, namespace and pod (default `cluster`, `namespace`, `pod`). */
  labels?: Partial<PodLabelNames>
  /** The cluster of series without the cluster label (a Prometheus that scrapes one cluster and adds no such label). */
  defaultCluster?: string
  /** More labels that are the scrape config's and not the metric's (e.g. pod labels a `labelmap` copied). */
  dropLabels?: readonly string[]
}

export interface Grouped {
  pods: PodSamples[]
  /** Series that name no pod (a label of `labels` missing), and which label names were missing. */
  unattributed: {series: number; missing: string[]}
  /** Series dropped as duplicates of another with the same pod and labels (the same target scraped by two jobs). */
  duplicates: number
}

const sampleKey = (s: Sample) => `${s.name}\u0000${Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]}`).join('\u0000')}`

/**
 * Groups an instant vector's series by the pod they were scraped from. Each series becomes a Sample with the metric's
 * own labels; series of one pod with equal labels (two jobs scraping one target) count once, the larger value kept.
 * Pods sorted by cluster, namespace, pod; samples by name, then labels.
 */
export function groupByPod(series: readonly VectorSeries[], options: GroupOptions = {}): Grouped {
  const names: PodLabelNames = {...DEFAULT_POD_LABELS, ...options.labels}
  const targetLabels = [...new Set([names.cluster, names.namespace, names.pod, 'job', 'instance', ...(options.dropLabels ?? [])])]
  const pods = new Map<string, PodSamples & {index: Map<string, number>}>()
  const missing = new Set<string>()
  let unattributed = 0
  let duplicates = 0
  for (const s of series) {
    const m = s.metric
    const where = {cluster: m[names.cluster] ?? options.defaultCluster, namespace: m[names.namespace], pod: m[names.pod]}
    const lacking = (['cluster', 'namespace', 'pod'] as const).filter((k) => !where[k])
    const name = m.__name__
    if (lacking.length > 0 || !name) {
      unattributed++
      for (const k of lacking) missing.add(names[k])
      if (!name) missing.add('__name__')
      continue
    }
    const labels: Record<string, string> = {}
    for (const [k, v] of Object.entries(m)) if (k !== '__name__' && !targetLabels.includes(k)) labels[k] = v
    // honor_labels: false renamed a scraped label that a target label shadowed to exported_<name>: undo it.
    for (const t of targetLabels) {
      const exported = `exported_${t}`
      if (exported in labels && !(t in labels)) {
        labels[t] = labels[exported]
        delete labels[exported]
      }
    }
    const sample: Sample = {name, labels, value: parseSampleValue(s.value[1])}
    const podKey = `${where.cluster}\u0000${where.namespace}\u0000${where.pod}`
    let pod = pods.get(podKey)
    if (!pod) pods.set(podKey, (pod = {cluster: where.cluster!, namespace: where.namespace, pod: where.pod, samples: [], index: new Map()}))
    const key = sampleKey(sample)
    const at = pod.index.get(key)
    if (at === undefined) {
      pod.index.set(key, pod.samples.length)
      pod.samples.push(sample)
    } else {
      duplicates++
      const kept = pod.samples[at]
      if (Number.isNaN(kept.value) || sample.value > kept.value) pod.samples[at] = sample
    }
  }
  const out = [...pods.values()].map(({index, ...pod}) => {
    const keys = new Map(pod.samples.map((s) => [s, sampleKey(s)]))
    return {...pod, samples: [...pod.samples].sort((a, b) => (keys.get(a)! < keys.get(b)! ? -1 : keys.get(a)! > keys.get(b)! ? 1 : 0))}
  })
  out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod))
  return {pods: out, unattributed: {series: unattributed, missing: [...missing].sort()}, duplicates}
}

/** An `/api/v1/query` answer → the samples of each pod (vectorOf, then groupByPod). */
export function podSamplesFromAnswer(body: unknown, options: GroupOptions = {}): Grouped {
  return groupByPod(vectorOf(body), options)
}
