/**
 * `stats --prometheus-url`, the pure part: Prometheus's `/api/v1/query` answers → the samples of each pod. The
 * answers in test/fixtures/prometheus are Debian's Prometheus's own (capture.sh there: it scraped exposition text
 * shaped as Envoy's and Istio's proxies serve it, targets/*.prom, with cluster/namespace/pod target labels), so the
 * samples read back must be exactly the ones in the scraped text.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {
  badLabelName, badMetricPattern, groupByPod, metricMatcher, parseSampleValue, podSamplesFromAnswer, PrometheusAnswerError, STATS_METRICS,
  statsQuery, type VectorSeries, vectorOf,
} from '../../../src/observe/prometheus.js'
import type {Sample} from '../../../src/observe/stats-samples.js'
import {parseExposition} from '../../../src/observe/exposition.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures/prometheus')
const answer = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as {status: string; data: {resultType: string; result: VectorSeries[]}}
/**
 * What the target served, as Prometheus stores it: a label with an empty value is no label in Prometheus's data model
 * (Istio's `grpc_response_status=""` on HTTP requests is not in the series), so the stats model must read a missing
 * label as "".
 */
const served = (target: string) => parseExposition(readFileSync(join(FIXTURES, 'targets', `${target}.prom`), 'utf8'))
  .filter((s) => metricMatcher(STATS_METRICS)(s.name))
  .map((s) => ({...s, labels: Object.fromEntries(Object.entries(s.labels).filter(([, v]) => v !== ''))}))
const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`
const sorted = (samples: Sample[]) => [...samples].sort((a, b) => key(a).localeCompare(key(b)))

describe('the instant query', () => {
  it('reads all the metrics in one query (one evaluation time), or the one metric by name', () => {
    expect(statsQuery(STATS_METRICS)).toBe('{__name__=~"istio_requests_total|envoy_cluster_(?:.*_)?upstream_rq(?:_total)?"}')
    expect(statsQuery(['envoy_cluster_upstream_rq'])).toBe('envoy_cluster_upstream_rq')
    expect(statsQuery(['a"b\\c', 'd'])).toBe('{__name__=~"a\\"b\\\\c|d"}')
  })
  it("the metrics are the stats model's: Istio's request counter, Envoy's upstream_rq counters under Istio's or upstream Envoy's tags", () => {
    const stats = metricMatcher(STATS_METRICS)
    for (const name of ['istio_requests_total', 'envoy_cluster_upstream_rq', 'envoy_cluster_upstream_rq_total', 'envoy_cluster_default_global_upstream_rq',
      'envoy_cluster_default_svc_cluster_local__upstream_rq', 'envoy_cluster_default_svc_kind3_global__upstream_rq_total']) expect(stats(name), name).toBe(true)
    for (const name of ['istio_request_bytes_sum', 'envoy_cluster_upstream_rq_xx', 'envoy_cluster_upstream_rq_completed', 'envoy_cluster_default_global_upstream_rq_time_bucket',
      'envoy_cluster_upstream_rq_timeout', 'xenvoy_cluster_upstream_rq']) expect(stats(name), name).toBe(false)
  })
  it('patterns that are no regular expression, and label names that are none, are found', () => {
    expect(badMetricPattern(['istio_requests_total', 'a(b'])).toBe('a(b')
    expect(badMetricPattern(['istio_requests_total', ''])).toBe('')
    expect(badMetricPattern(STATS_METRICS)).toBeUndefined()
    expect(badLabelName(['cluster', 'kubernetes_pod_name'])).toBeUndefined()
    expect(badLabelName(['pod', 'k8s-pod'])).toBe('k8s-pod')
  })
})

describe("an answer of Debian's Prometheus → the samples each pod's proxy served", () => {
  const grouped = podSamplesFromAnswer(answer('stats-query'))

  it('one entry per scraped pod, from its cluster, namespace and pod target labels, sorted', () => {
    expect(grouped.pods.map((p) => `${p.cluster}/${p.namespace}/${p.pod}`)).toEqual([
      'kind2/default/productpage-v1-hkrbvfqjpf-wsnxp', 'kind2/default/reviews-v1-cxbjmbrgzr-tzqrv', 'kind3/default/productpage-v1-bmflwtfhmd-qwnpz',
    ])
    expect(grouped.unattributed).toEqual({series: 0, missing: []})
  })

  it("each pod's samples are exactly the ones its exposition text has (names, labels, values)", () => {
    const [pp2, reviews, pp3] = grouped.pods
    expect(sorted(pp2.samples)).toEqual(sorted(served('kind2-productpage')))
    expect(sorted(reviews.samples)).toEqual(sorted(served('kind2-reviews')))
    expect(sorted(pp3.samples)).toEqual(sorted(served('kind3-productpage')))
    // What the model reads: Envoy's upstream counter naming the destination cluster, Istio's standard labels.
    expect(pp2.samples).toContainEqual({name: 'envoy_cluster_upstream_rq', labels: {envoy_cluster_name: 'outbound|9080||reviews.default.svc.kind3.global', envoy_response_code: '200'}, value: 40})
    const istio = pp2.samples.find((s) => s.name === 'istio_requests_total' && s.labels.destination_workload === 'reviews-v2')!
    expect(istio.value).toBe(57)
    expect(istio.labels).toMatchObject({reporter: 'source', source_principal: 'spiffe://kind2/ns/default/sa/bookinfo-productpage', destination_version: 'v2', destination_cluster: 'kind2', response_code: '200'})
    // The proxy served grpc_response_status="" (Istio's standard labels); Prometheus keeps no empty label.
    expect(readFileSync(join(FIXTURES, 'targets/kind2-productpage.prom'), 'utf8')).toContain('grpc_response_status=""')
    expect(istio.labels).not.toHaveProperty('grpc_response_status')
  })

  it("Prometheus's bookkeeping (__name__, job, instance) and the target labels are not the metric's labels", () => {
    for (const s of grouped.pods.flatMap((p) => p.samples)) {
      for (const l of ['__name__', 'job', 'instance', 'cluster', 'namespace', 'pod']) expect(s.labels).not.toHaveProperty(l)
    }
    // ... though every series in the answer has them.
    expect(Object.keys(answer('stats-query').data.result[0].metric)).toEqual(expect.arrayContaining(['__name__', 'job', 'instance', 'cluster', 'namespace', 'pod']))
  })

  it('a target scraped by two jobs (envoy-stats and kubernetes-pods) counts once', () => {
    const jobs = new Set(answer('stats-query').data.result.filter((s) => s.metric.pod.startsWith('productpage-v1-hkrb')).map((s) => s.metric.job))
    expect(jobs).toEqual(new Set(['envoy-stats', 'kubernetes-pods']))
    expect(grouped.duplicates).toBe(served('kind2-productpage').length)
    expect(grouped.pods[0].samples).toHaveLength(served('kind2-productpage').length)
  })

  it('of two series with the same pod and labels, the larger value is kept (scraped a moment apart)', () => {
    const series = answer('stats-query').data.result.map((s) => (s.metric.job === 'kubernetes-pods' ? {...s, value: [s.value[0], String(Number(s.value[1]) + 1)] as [number, string]} : s))
    const pp2 = groupByPod(series).pods[0]
    expect(pp2.samples.find((s) => s.labels.envoy_response_code === '503')!.value).toBe(4)
  })

  it('NaN as the API writes it ("NaN") stays NaN; +Inf, -Inf and Go float forms are numbers', () => {
    const pp3 = grouped.pods[2]
    expect(answer('stats-query').data.result.some((s) => s.value[1] === 'NaN')).toBe(true)
    expect(pp3.samples.find((s) => s.labels.envoy_cluster_name === 'outbound|9080||ratings')!.value).toBeNaN()
    // The demo's upstream Envoy: the cluster name's tail is in the metric name, as Prometheus stored it.
    expect(pp3.samples).toContainEqual({name: 'envoy_cluster_default_svc_kind3_global__upstream_rq_total', labels: {envoy_cluster_name: 'outbound|9080||reviews'}, value: 45})
    expect(parseSampleValue('+Inf')).toBe(Infinity)
    expect(parseSampleValue('-Inf')).toBe(-Infinity)
    expect(parseSampleValue('1e+06')).toBe(1_000_000)
    expect(parseSampleValue('0.25')).toBe(0.25)
    expect(() => parseSampleValue('')).toThrow(PrometheusAnswerError)
    expect(() => parseSampleValue('twelve')).toThrow(/"twelve", not a number/)
  })

  it('a metric label that a target label shadowed (Prometheus renamed it exported_<name>) gets its name back', () => {
    const raw = answer('exported-labels').data.result[0].metric
    expect(raw).toMatchObject({namespace: 'istio-system', exported_namespace: 'default', exported_pod: 'x'})
    const [gw] = podSamplesFromAnswer(answer('exported-labels')).pods
    expect(gw).toMatchObject({cluster: 'kind2', namespace: 'istio-system', pod: 'istio-ingressgateway-dgkqbxmwhl-ptxnz'})
    expect(gw.samples).toEqual([{name: 'envoy_cluster_upstream_rq', labels: {envoy_cluster_name: 'outbound|9080||reviews.default.svc.cluster.local', envoy_response_code: '200', namespace: 'default', pod: 'x'}, value: 5}])
  })

  it('series without a cluster label name no pod, unless a default cluster is given', () => {
    const none = podSamplesFromAnswer(answer('no-cluster-label'))
    expect(none.pods).toEqual([])
    expect(none.unattributed).toEqual({series: served('kind3-productpage').length, missing: ['cluster']})
    const kind3 = podSamplesFromAnswer(answer('no-cluster-label'), {defaultCluster: 'kind3'})
    expect(kind3.pods.map((p) => `${p.cluster}/${p.namespace}/${p.pod}`)).toEqual(['kind3/default/productpage-v1-bmflwtfhmd-qwnpz'])
    expect(sorted(kind3.pods[0].samples)).toEqual(sorted(served('kind3-productpage')))
  })

  it('the label names are options (older Istio scrape configs: kubernetes_namespace, kubernetes_pod_name)', () => {
    const rename: Record<string, string> = {namespace: 'kubernetes_namespace', pod: 'kubernetes_pod_name', cluster: 'mesh_cluster'}
    const series = answer('stats-query').data.result.map((s) => ({...s, metric: Object.fromEntries(Object.entries(s.metric).map(([k, v]) => [rename[k] ?? k, v]))}))
    expect(groupByPod(series).pods).toEqual([])
    expect(groupByPod(series).unattributed.missing).toEqual(['cluster', 'namespace', 'pod'])
    const pods = groupByPod(series, {labels: {cluster: 'mesh_cluster', namespace: 'kubernetes_namespace', pod: 'kubernetes_pod_name'}}).pods
    expect(pods).toEqual(grouped.pods)
  })

  it('labels a scrape config copied from the pod (labelmap) can be dropped too', () => {
    const series = answer('stats-query').data.result.map((s) => ({...s, metric: {...s.metric, app: 'productpage', version: 'v1'}}))
    expect(groupByPod(series).pods[0].samples[0].labels).toMatchObject({app: 'productpage'})
    expect(groupByPod(series, {dropLabels: ['app', 'version']}).pods).toEqual(grouped.pods)
  })

  it('an empty vector is no pods, nothing unattributed', () => {
    expect(podSamplesFromAnswer(answer('empty'))).toEqual({pods: [], unattributed: {series: 0, missing: []}, duplicates: 0})
  })
})

describe('answers that are not an instant vector', () => {
  it("Prometheus's error answer → its errorType and message", () => {
    expect(() => vectorOf(answer('bad-query'))).toThrow(new PrometheusAnswerError('bad_data: invalid parameter "query": 1:27: parse error: unexpected end of input inside braces', 'error'))
  })
  it('a scalar, or anything not shaped as the API answers, is a shape error', () => {
    const shapeError = (body: unknown) => {
      try {
        vectorOf(body)
      } catch (error) {
        return error instanceof PrometheusAnswerError && error.kind === 'shape' ? error.message : `unexpected: ${String(error)}`
      }
      return 'no error'
    }
    expect(shapeError(answer('scalar'))).toBe('the query gave a scalar, not an instant vector')
    expect(shapeError({})).toMatch(/no "status"/)
    expect(shapeError('404 page not found')).toMatch(/no "status"/)
    expect(shapeError(null)).toMatch(/no "status"/)
    expect(shapeError({status: 'success'})).toMatch(/without "data"/)
    expect(shapeError({status: 'success', data: {resultType: 'vector', result: [{metric: {}, value: [1, 2]}]}})).toMatch(/not \{metric, value/)
  })
})
