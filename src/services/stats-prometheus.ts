/**
 * `kubectl smh stats --prometheus-url URL` (issue 10): the same samples the stats model reads from each proxy's own
 * `/stats/prometheus`, read instead from a Prometheus server that scrapes the proxies: one instant query
 * (`GET <url>/api/v1/query`) for the metrics, series grouped by the pod they came from (src/observe/prometheus.ts).
 * Returns data, prints nothing.
 */
import {SmhError, UsageError} from '../errors.js'
import {
  badLabelName, badMetricPattern, DEFAULT_POD_LABELS, type GroupOptions, podSamplesFromAnswer, PrometheusAnswerError,
  STATS_METRICS, statsQuery,
} from '../observe/prometheus.js'
import type {PodSamples} from '../observe/stats-samples.js'
import type {ProxyPod, SampleReader, SampleReading, Unreadable} from './stats.js'

export interface PrometheusReadOptions extends GroupOptions {
  /** The metrics to read: names, or RE2 patterns of names (default STATS_METRICS: istio_requests_total and Envoy's upstream_rq counters). */
  metrics?: readonly string[]
  /** Give up after this long (default 10 s; 0: no limit). */
  timeoutMs?: number
  /** The evaluation time (default: the server's now). */
  time?: Date
  /** More request headers (e.g. Authorization). */
  headers?: Record<string, string>
}

export interface PrometheusEndpoint {
  /** The URL as the user wrote it, without credentials: for messages. */
  shown: string
  /** `<base>/api/v1/query` */
  query: URL
  headers: Record<string, string>
}

const FLAG = '--prometheus-url'

/**
 * The query endpoint of a Prometheus base URL (`http://host:9090`, or with the path prefix of --web.route-prefix);
 * a URL copied from the API or the UI (`…/api/v1/query`, `…/graph`) is taken back to its base. Credentials in the URL
 * (`https://user:password@host`) become basic authentication. A URL that is not http(s) → UsageError.
 */
export function prometheusEndpoint(url: string): PrometheusEndpoint {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`${FLAG} "${url}" is not a URL: give the Prometheus server's base URL, e.g. http://127.0.0.1:9090`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${FLAG} "${url}" is not http(s): give the Prometheus server's base URL, e.g. http://127.0.0.1:9090`)
  if (u.search || u.hash) throw new UsageError(`${FLAG} "${url}" has a query or fragment: give the Prometheus server's base URL only, e.g. http://127.0.0.1:9090`)
  const headers: Record<string, string> = {}
  let shown = url
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    u.username = ''
    u.password = ''
    shown = u.toString().replace(/\/$/, '')
  }
  const base = u.pathname.replace(/\/(api\/v1\/query|api\/v1|graph)\/?$/, '').replace(/\/*$/, '/')
  return {shown, query: new URL(`${base}api/v1/query`, u), headers}
}

function describeNetworkError(error: unknown): string {
  const e = error as {name?: string; message?: string; cause?: {code?: string; message?: string}}
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error)
}

/**
 * The samples of every pod a Prometheus server has series of, for the given metrics, at one evaluation time. Errors
 * are one line with the URL and the fix: unreachable, a non-success answer, or series none of which names its pod
 * (SmhError, exit 1); a bad URL, metric or label name (UsageError, exit 2).
 */
export async function readPrometheusSamples(url: string, options: PrometheusReadOptions = {}): Promise<PodSamples[]> {
  const endpoint = prometheusEndpoint(url)
  const metrics = options.metrics ?? STATS_METRICS
  if (metrics.length === 0) throw new UsageError('no metrics to read from Prometheus')
  const badMetric = badMetricPattern(metrics)
  if (badMetric !== undefined) throw new UsageError(`"${badMetric}" is neither a metric name nor a regular expression of metric names`)
  const labels = {...DEFAULT_POD_LABELS, ...options.labels}
  const badLabel = badLabelName([...Object.values(labels), ...(options.dropLabels ?? [])])
  if (badLabel !== undefined) throw new UsageError(`"${badLabel}" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)`)

  const request = new URL(endpoint.query)
  request.searchParams.set('query', statsQuery(metrics))
  if (options.time) request.searchParams.set('time', (options.time.getTime() / 1000).toFixed(3))
  const timeoutMs = options.timeoutMs ?? 10_000
  const where = `Prometheus at ${endpoint.shown}`
  const fix = `check ${FLAG} (the server's base URL, e.g. http://127.0.0.1:9090) and that the server runs`
  let response: Response
  let text: string
  try {
    response = await fetch(request, {
      headers: {accept: 'application/json', ...endpoint.headers, ...options.headers},
      ...(timeoutMs > 0 ? {signal: AbortSignal.timeout(timeoutMs)} : {}),
    })
    text = await response.text()
  } catch (error) {
    if ((error as {name?: string}).name === 'TimeoutError') throw new SmhError(`${where} did not answer within ${timeoutMs / 1000} s: ${fix}, or raise --request-timeout`)
    throw new SmhError(`cannot reach ${where} (${describeNetworkError(error)}): ${fix}`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (response.status === 401 || response.status === 403) {
    throw new SmhError(`${where} answered ${response.status} ${response.statusText}: it wants credentials; put them into the URL (https://user:password@host)`)
  }
  let grouped
  try {
    if (body === undefined) throw new PrometheusAnswerError(`${response.status} ${response.statusText}, not JSON`, 'shape')
    grouped = podSamplesFromAnswer(body, options)
  } catch (error) {
    if (!(error instanceof PrometheusAnswerError)) throw error
    if (error.kind === 'error') throw new SmhError(`${where} answered ${response.status} (${error.message}) to ${statsQuery(metrics)}: check that the server is Prometheus 2 or later and not overloaded`)
    throw new SmhError(`${where} did not answer as Prometheus's HTTP API (GET ${endpoint.query.pathname}: ${error.message}): ${fix}`)
  }
  if (grouped.pods.length === 0 && grouped.unattributed.series > 0) {
    const missing = grouped.unattributed.missing.map((l) => `"${l}"`).join(', ')
    throw new SmhError(`${where} has ${grouped.unattributed.series} series of ${metrics.join(', ')} but none with the label(s) ${missing} that name their pod: add them as target labels in the scrape config (Istio's names namespace and pod; cluster is a relabel per cluster), or name the labels it uses`)
  }
  return grouped.pods
}

/**
 * `stats --prometheus-url` as the stats service's sample reader: one query per reading in place of one request per
 * pod. Only the registered clusters' proxies count; a proxy Prometheus holds no series of is unreadable (named on
 * stderr like a pod that does not answer), since its requests would otherwise silently be missing from the table.
 */
export function prometheusReader(url: string, options: PrometheusReadOptions = {}): SampleReader {
  prometheusEndpoint(url) // a bad URL is exit 2 before any cluster is read
  return async (pods: ProxyPod[]): Promise<SampleReading> => {
    const key = (p: {cluster: string; namespace: string; pod: string}) => `${p.cluster}/${p.namespace}/${p.pod}`
    const held = new Map((await readPrometheusSamples(url, options)).map((s) => [key(s), s]))
    const samples: PodSamples[] = []
    const unreadable: Unreadable[] = []
    for (const pod of pods) {
      const found = held.get(key(pod))
      if (found) samples.push(found)
      else unreadable.push({cluster: pod.cluster, namespace: pod.namespace, pod: pod.pod, reason: `Prometheus at ${prometheusEndpoint(url).shown} has no series of it (scraped with the labels cluster, namespace and pod?)`})
    }
    return {samples, unreadable, requests: 1}
  }
}
