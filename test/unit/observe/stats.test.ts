import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {
  type PodRow, type StatsPod, type StatsWorld, aggregateRows, filterRows, isStatsMetric, matchesSelector, parseExposition,
  parseLabelSelector, parseServiceRef, podRows, trustDomainOf, workloadOf,
} from '../../../src/observe/stats.js'
import {SmhError} from '../../../src/errors.js'

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/stats/${name}`, import.meta.url), 'utf8')

describe('parseExposition: Prometheus text format', () => {
  it('reads samples, skips # HELP / # TYPE / comments / blank lines, keeps optional timestamps out of the value', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      '',
      '# a comment',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      'metric_without_timestamp_and_labels 12.47',
      'some_gauge{ a = "1" , b="2", } -0.25',
    ].join('\n')
    expect(parseExposition(text)).toEqual([
      {name: 'http_requests_total', labels: {method: 'post', code: '200'}, value: 1027},
      {name: 'http_requests_total', labels: {method: 'post', code: '400'}, value: 3},
      {name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47},
      {name: 'some_gauge', labels: {a: '1', b: '2'}, value: -0.25},
    ])
  })

  it('unescapes label values: \\" quotes, \\\\ backslashes, \\n newlines (commas and braces inside values are data)', () => {
    const [sample] = parseExposition('msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",odd="a,b}c"} 1.458255915e9\n')
    expect(sample.labels).toEqual({path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"', odd: 'a,b}c'})
    expect(sample.value).toBe(1.458255915e9)
  })

  it('reads NaN, +Inf and -Inf values, and CRLF line ends', () => {
    const samples = parseExposition('a NaN\r\nb{le="+Inf"} +Inf\r\nc -Inf\r\n')
    expect(samples.map((s) => s.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    expect(samples[1].labels.le).toBe('+Inf')
  })

  it('names the line of a malformed sample', () => {
    expect(() => parseExposition('ok 1\nbroken{a="1" 2\n')).toThrow(/line 2: expected , or } after label a/)
    expect(() => parseExposition('ok 1\n\nx{a="unterminated} 1\n')).toThrow(/line 3: unterminated value of label a/)
    expect(() => parseExposition('x one\n')).toThrow(/line 1: "one" is not a value/)
  })

  it('skips metrics it is not asked for without parsing their labels', () => {
    const samples = parseExposition('keep{a="1"} 1\nskip{this is not parsed at all} 2\n', {keep: (n) => n === 'keep'})
    expect(samples).toEqual([{name: 'keep', labels: {a: '1'}, value: 1}])
  })

  it("parses Istio's istio_requests_total exactly as its proxies write it (labels of Istio's standard metrics)", () => {
    const samples = parseExposition(fixture('istio-kind2-productpage-v1.prom'), {keep: isStatsMetric})
    const istio = samples.filter((s) => s.name === 'istio_requests_total')
    expect(istio).toHaveLength(7)
    expect(Object.keys(istio[0].labels)).toEqual([
      'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal',
      'source_app', 'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace', 'destination_principal',
      'destination_app', 'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision',
      'destination_service_name', 'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code',
      'grpc_response_status', 'response_flags', 'connection_security_policy',
    ])
    expect(istio[0].labels.grpc_response_status).toBe('')
    expect(istio[0].value).toBe(5987)
    // Histograms are not read.
    expect(samples.some((s) => s.name.startsWith('istio_request_duration'))).toBe(false)
  })

  it("parses upstream Envoy 1.40's per-cluster counters as the demo's proxies serve them", () => {
    const samples = parseExposition(fixture('envoy-kind2-productpage-v1.prom'))
    expect(samples).toContainEqual({name: 'envoy_cluster_default_svc_kind3_global__upstream_rq_total', labels: {envoy_cluster_name: 'outbound|9080||reviews'}, value: 45})
    expect(samples).toContainEqual({name: 'envoy_cluster_default_global_upstream_rq', labels: {envoy_response_code: '503', envoy_cluster_name: 'outbound|9080||reviews-failover'}, value: 15})
  })
})

// The seed's clusters: kind2 (reviews v1, v2) and kind3 (reviews v1, v2, v3), trust domains named after them.
const pod = (cluster: string, app: string, version: string, extra: Partial<StatsPod> = {}): StatsPod => ({
  cluster, namespace: 'default', name: `${app}-${version}-abc-${cluster}`, labels: {app, version}, serviceAccount: `bookinfo-${app}`,
  workload: `${app}-${version}`, proxy: true, ...extra,
})
const world: StatsWorld = {
  clusters: [{name: 'kind2', trustDomain: 'kind2', clusterDomain: 'cluster.local'}, {name: 'kind3', trustDomain: 'kind3', clusterDomain: 'cluster.local'}],
  pods: [
    pod('kind2', 'productpage', 'v1'), pod('kind2', 'reviews', 'v1'), pod('kind2', 'reviews', 'v2'),
    pod('kind3', 'productpage', 'v1'), pod('kind3', 'reviews', 'v1'), pod('kind3', 'reviews', 'v2'), pod('kind3', 'reviews', 'v3'),
    {cluster: 'kind2', namespace: 'istio-system', name: 'istio-ingressgateway-x-y', labels: {app: 'istio-ingressgateway'}, serviceAccount: 'istio-ingressgateway-service-account', workload: 'istio-ingressgateway', proxy: true},
  ],
  services: ['kind2', 'kind3'].flatMap((cluster) => ['productpage', 'reviews', 'details', 'ratings'].map((name) => ({cluster, namespace: 'default', name, selector: {app: name}}))),
}
const samplesOf = (cluster: string, name: string, file: string) => ({cluster, namespace: 'default', pod: name, samples: parseExposition(fixture(file), {keep: isStatsMetric})})
const table = (rows: ReturnType<typeof aggregateRows>) => rows.map((r) => [r.requests, r.code, r.sourcePrincipal, r.targetPrincipal, r.targetVersion, r.targetCluster, r.source].join(' '))

describe("rows from Istio's istio_requests_total", () => {
  it("reproduce the seed's table from kind2's productpage sidecar (source-side reports)", () => {
    const rows = aggregateRows(podRows(world, [samplesOf('kind2', 'productpage-v1-abc-kind2', 'istio-kind2-productpage-v1.prom')]))
    expect(table(rows)).toEqual([
      '5987 200 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind2/ns/default/sa/bookinfo-reviews v1 kind2 istio',
      '14 503 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind2/ns/default/sa/bookinfo-reviews v1 kind2 istio',
      '5943 200 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind2/ns/default/sa/bookinfo-reviews v2 kind2 istio',
      '3 503 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind2/ns/default/sa/bookinfo-reviews v2 kind2 istio',
      '1044 200 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind3/ns/default/sa/bookinfo-reviews v1 kind3 istio',
      '606 200 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind3/ns/default/sa/bookinfo-reviews v2 kind3 istio',
      '1527 200 spiffe://kind2/ns/default/sa/bookinfo-productpage spiffe://kind3/ns/default/sa/bookinfo-reviews v3 kind3 istio',
    ])
    // The pod's Envoy counters count the same requests again: an Istio proxy gives istio rows only.
    expect(rows.every((r) => r.source === 'istio')).toBe(true)
    expect(rows.every((r) => r.targetService === 'default/reviews' && r.sourceCluster === 'kind2')).toBe(true)
  })

  it('count each request once: a server-side report is dropped when its client sidecar was read, kept when not', () => {
    const both = podRows(world, [
      samplesOf('kind2', 'productpage-v1-abc-kind2', 'istio-kind2-productpage-v1.prom'),
      samplesOf('kind2', 'reviews-v1-abc-kind2', 'istio-kind2-reviews-v1.prom'),
    ])
    const fromServer = both.filter((r) => r.reporter === 'kind2/default/reviews-v1-abc-kind2')
    // Only the gateway's requests (its proxy was not read) come from the server's reports.
    expect(fromServer.map((r) => [r.requests, r.sourcePrincipal, r.sourceCluster, r.targetCluster, r.targetVersion])).toEqual([
      [42, 'spiffe://kind2/ns/istio-system/sa/istio-ingressgateway-service-account', 'kind2', 'kind2', 'v1'],
    ])
    expect(aggregateRows(both).reduce((n, r) => n + r.requests, 0)).toBe(5987 + 14 + 5943 + 3 + 1044 + 606 + 1527 + 42)
    // Without the client's sidecar, the server's reports are the only count.
    const serverOnly = aggregateRows(podRows(world, [samplesOf('kind2', 'reviews-v1-abc-kind2', 'istio-kind2-reviews-v1.prom')]))
    expect(serverOnly.reduce((n, r) => n + r.requests, 0)).toBe(5987 + 14 + 42)
    expect(serverOnly.find((r) => r.requests === 14)?.sourcePrincipal).toBe('spiffe://kind2/ns/default/sa/bookinfo-productpage')
  })
})

describe("rows from upstream Envoy's own counters (the demo's data plane, after demo fail kind2/default/reviews)", () => {
  const read = [
    samplesOf('kind2', 'productpage-v1-abc-kind2', 'envoy-kind2-productpage-v1.prom'),
    samplesOf('kind2', 'reviews-v1-abc-kind2', 'envoy-kind2-reviews-v1.prom'),
    samplesOf('kind3', 'reviews-v1-abc-kind3', 'envoy-kind3-reviews-v1.prom'),
  ]
  const rows = aggregateRows(podRows(world, read))

  it('outbound: the Envoy cluster host names the serving cluster (local → the client\'s own, NAME.NS.svc.CLUSTER.global → CLUSTER)', () => {
    const outbound = rows.filter((r) => r.source === 'envoy-outbound' && r.targetService === 'default/reviews')
    expect(outbound.map((r) => [r.requests, r.code, r.sourcePrincipal, r.targetPrincipal, r.targetVersion, r.targetCluster])).toEqual([
      // Sent through the failover aggregate: Envoy charged the codes to the aggregate, the requests here.
      [65, '', 'spiffe://kind2/ns/default/sa/bookinfo-productpage', 'spiffe://kind2/ns/default/sa/bookinfo-reviews', '', 'kind2'],
      [45, '', 'spiffe://kind2/ns/default/sa/bookinfo-productpage', 'spiffe://kind3/ns/default/sa/bookinfo-reviews', '', 'kind3'],
    ])
    // The aggregate's own counters: codes, no serving cluster.
    expect(rows.filter((r) => r.targetService === 'reviews-failover.default.global').map((r) => [r.requests, r.code, r.targetCluster])).toEqual([[95, '200', ''], [15, '503', '']])
    // external.* repeats the same requests: not counted twice.
    expect(rows.reduce((n, r) => n + (r.source === 'envoy-outbound' ? r.requests : 0), 0)).toBe(65 + 45 + 95 + 15)
  })

  it('inbound: the server pod itself is the target (its principal, version and cluster); the source is unknown', () => {
    const inbound = rows.filter((r) => r.source === 'envoy-inbound')
    expect(inbound.map((r) => [r.requests, r.code, r.sourcePrincipal, r.targetPrincipal, r.targetVersion, r.targetCluster, r.targetService])).toEqual([
      [22, '200', '', 'spiffe://kind2/ns/default/sa/bookinfo-reviews', 'v1', 'kind2', 'default/reviews'],
      [14, '503', '', 'spiffe://kind2/ns/default/sa/bookinfo-reviews', 'v1', 'kind2', 'default/reviews'],
      [45, '200', '', 'spiffe://kind3/ns/default/sa/bookinfo-reviews', 'v1', 'kind3', 'default/reviews'],
    ])
  })

  it('a subset in the cluster name is the target version; hosts with dashes are rebuilt exactly from the known Services', () => {
    const text = [
      'envoy_cluster_default_svc_cluster_local__upstream_rq{envoy_response_code="200",envoy_cluster_name="outbound|9080|v2|reviews"} 7',
      'envoy_cluster_default_svc_cluster_local__upstream_rq_total{envoy_cluster_name="outbound|9080|v2|reviews"} 7',
      // Istio's own bootstrap keeps the whole name in the tag (up to its `;`).
      'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="outbound|9080||my-svc.my-ns.svc.kind3.global;"} 3',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="outbound|9080||my-svc.my-ns.svc.kind3.global;"} 3',
      'envoy_cluster_my_ns_svc_kind3_global__upstream_rq_total{envoy_cluster_name="outbound|9080||my-svc"} 2',
      'envoy_cluster_upstream_rq{envoy_response_code="200",envoy_cluster_name="BlackHoleCluster"} 9',
    ].join('\n')
    const w: StatsWorld = {...world, services: [...world.services, {cluster: 'kind3', namespace: 'my-ns', name: 'my-svc', selector: {app: 'my'}}]}
    const got = aggregateRows(podRows(w, [{cluster: 'kind2', namespace: 'default', pod: 'productpage-v1-abc-kind2', samples: parseExposition(text)}]))
    expect(got.map((r) => [r.requests, r.code, r.targetService, r.targetVersion, r.targetCluster])).toEqual([
      [7, '200', 'default/reviews', 'v2', 'kind2'],
      [3, '200', 'my-ns/my-svc', '', 'kind3'],
      [2, '', 'my-ns/my-svc', '', 'kind3'],
    ])
  })
})

describe('filters', () => {
  const read = [
    samplesOf('kind2', 'productpage-v1-abc-kind2', 'envoy-kind2-productpage-v1.prom'),
    samplesOf('kind2', 'reviews-v1-abc-kind2', 'envoy-kind2-reviews-v1.prom'),
    samplesOf('kind3', 'reviews-v1-abc-kind3', 'envoy-kind3-reviews-v1.prom'),
  ]
  const all = podRows(world, read)

  it('--service CLUSTER/NS/SVC: served by it, or sent to NS/SVC by that cluster\'s clients and served elsewhere (failover)', () => {
    const kind2 = aggregateRows(filterRows(all, {service: {cluster: 'kind2', namespace: 'default', name: 'reviews'}}))
    expect(kind2.map((r) => `${r.source} ${r.targetCluster} ${r.requests}`)).toEqual(['envoy-outbound kind2 65', 'envoy-inbound kind2 22', 'envoy-inbound kind2 14', 'envoy-outbound kind3 45'])
    const kind3 = aggregateRows(filterRows(all, {service: {cluster: 'kind3', namespace: 'default', name: 'reviews'}}))
    expect(kind3.map((r) => `${r.source} ${r.targetCluster} ${r.requests}`)).toEqual(['envoy-outbound kind3 45', 'envoy-inbound kind3 45'])
  })

  it('--source: a label selector on the client pods; rows without a known client (inbound) drop out', () => {
    const pp = filterRows(all, {source: parseLabelSelector('app=productpage,version in (v1)')})
    expect(new Set(pp.map((r) => r.source))).toEqual(new Set(['envoy-outbound']))
    expect(filterRows(all, {source: parseLabelSelector('app=productpage,version notin (v1)')})).toEqual([])
  })

  it('--service that does not exist: exit 2 with the nearest names', () => {
    const fail = (value: string) => {
      try {
        parseServiceRef(value, world)
      } catch (error) {
        expect((error as SmhError).exitCode).toBe(2)
        return (error as Error).message
      }
      throw new Error('no error')
    }
    expect(parseServiceRef('kind2/default/reviews', world)).toEqual({cluster: 'kind2', namespace: 'default', name: 'reviews'})
    expect(fail('kind2/default/reviewz')).toBe('--service kind2/default/reviewz: no such Service; nearest: kind2/default/reviews, kind3/default/reviews, kind2/default/ratings')
    expect(fail('kind4/default/reviews')).toMatch(/no registered cluster kind4; nearest: kind2, kind3/)
    expect(fail('reviews')).toMatch(/is not CLUSTER\/NS\/SVC/)
    expect(() => parseServiceRef('kind3/default/reviews', world, {kind3: 'connection refused'})).not.toThrow()
  })
})

describe('label selectors (kubectl syntax)', () => {
  const labels = {app: 'productpage', version: 'v1', tier: 'web'}
  it.each([
    ['app=productpage', true], ['app==productpage', true], ['app!=productpage', false], ['version in (v1, v2)', true],
    ['version notin (v1)', false], ['missing notin (x)', true], ['missing!=x', true], ['tier', true], ['!tier', false], ['!canary', true],
    ['app=productpage,version in (v2)', false], ['app.kubernetes.io/name', false], ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(matchesSelector(parseLabelSelector(selector), labels)).toBe(expected)
  })
  it.each(['app=(x', 'version in v1', 'a b c', 'app=x,', '=x', 'app=x)'])('rejects %s with a usage error', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(/--source ".*": .*use kubectl's selector syntax/)
  })
})

describe('--watch: deltas and rates between two readings', () => {
  const row = (reporter: string, requests: number, code = '200'): PodRow => ({
    reporter, source: 'envoy-inbound', requests, code, sourceCluster: '', sourcePrincipal: '', targetService: 'default/reviews',
    targetCluster: reporter.split('/')[0], targetPrincipal: 'p', targetVersion: 'v1',
  })
  it('per row: requests since the previous reading and per second; new pods and restarted counters handled', () => {
    const before = [row('kind2/default/a', 100), row('kind3/default/b', 10), row('kind3/default/c', 500)]
    const after = [row('kind2/default/a', 100), row('kind3/default/b', 30), row('kind3/default/c', 20), row('kind3/default/new', 7)]
    const rows = aggregateRows(after, {rows: before, readPods: new Set(['kind2/default/a', 'kind3/default/b', 'kind3/default/c']), seconds: 2})
    const kind2 = rows.find((r) => r.targetCluster === 'kind2')!
    const kind3 = rows.find((r) => r.targetCluster === 'kind3')!
    expect([kind2.requests, kind2.delta, kind2.rate]).toEqual([100, 0, 0])
    // b: +20; c restarted (500 → 20): counts 20 from zero; the new pod's counters started at an unknown time: no delta.
    expect([kind3.requests, kind3.delta, kind3.rate]).toEqual([57, 40, 20])
  })
  it('a first reading has no deltas; rows with no requests are dropped', () => {
    const rows = aggregateRows([row('kind2/default/a', 0), row('kind2/default/a', 3, '503')])
    expect(rows).toEqual([expect.objectContaining({requests: 3, code: '503'})])
    expect(rows[0].delta).toBeUndefined()
  })
})

describe('pod facts', () => {
  it("trust domain of the mesh config, cluster.local if unset; Istio's workload name of a pod", () => {
    expect(trustDomainOf({trustDomain: 'kind2'})).toBe('kind2')
    expect(trustDomainOf({defaultConfig: {}})).toBe('cluster.local')
    expect(trustDomainOf(undefined)).toBe('cluster.local')
    expect(workloadOf({metadata: {name: 'reviews-v1-abc-xyz', labels: {'pod-template-hash': 'abc'}, ownerReferences: [{kind: 'ReplicaSet', name: 'reviews-v1-abc', controller: true}]}})).toBe('reviews-v1')
    expect(workloadOf({metadata: {name: 'db-0', ownerReferences: [{kind: 'StatefulSet', name: 'db', controller: true}]}})).toBe('db')
    expect(workloadOf({metadata: {name: 'bare'}})).toBe('bare')
  })
})
