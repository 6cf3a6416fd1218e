import {describe, expect, it} from 'vitest'

import type {StatsRow} from '../../../src/observe/stats.js'
import type {StatsReading} from '../../../src/services/stats.js'
import {renderStatsTable, renderUnreadable} from '../../../src/ui/stats.js'

const row = (over: Partial<StatsRow>): StatsRow => ({
  requests: 5987, code: '200', sourcePrincipal: 'spiffe://kind2/ns/default/sa/bookinfo-productpage', targetPrincipal: 'spiffe://kind2/ns/default/sa/bookinfo-reviews',
  targetVersion: 'v1', targetCluster: 'kind2', targetService: 'default/reviews', sourceCluster: 'kind2', source: 'istio', ...over,
})
const reading = (rows: StatsRow[], over: Partial<StatsReading> = {}): StatsReading => ({at: '2026-01-01T00:00:00.000Z', rows, proxies: 3, read: 3, unreadable: [], requests: 9, elapsedMs: 12, ...over})

describe("stats' table", () => {
  it("has the seed's columns in its order, then the serving cluster and the row's source; unknowns show as -", () => {
    const text = renderStatsTable(reading([row({}), row({requests: 45, code: '', sourcePrincipal: '', targetVersion: '', source: 'envoy-inbound'})]))
    const [header, first, second] = text.split('\n')
    expect(header.split(/\s{2,}/)).toEqual(['# REQ', 'RESP', 'SOURCE PRINCIPAL', 'TARGET PRINCIPAL', 'TARGET VERSION', 'TARGET CLUSTER', 'FROM'])
    expect(first.split(/\s+/)).toEqual(['5987', '200', 'spiffe://kind2/ns/default/sa/bookinfo-productpage', 'spiffe://kind2/ns/default/sa/bookinfo-reviews', 'v1', 'kind2', 'istio'])
    expect(second.split(/\s+/)).toEqual(['45', '-', '-', 'spiffe://kind2/ns/default/sa/bookinfo-reviews', '-', 'kind2', 'envoy-inbound'])
  })

  it('adds the target service when rows mix services, and the interval columns under --watch', () => {
    const text = renderStatsTable(reading([row({delta: 20, rate: 10}), row({targetService: 'default/ratings', delta: 0, rate: 0})], {intervalSeconds: 2}))
    expect(text.split('\n')[0].split(/\s{2,}/)).toEqual(['# REQ', 'Δ', '/S', 'RESP', 'SOURCE PRINCIPAL', 'TARGET SERVICE', 'TARGET PRINCIPAL', 'TARGET VERSION', 'TARGET CLUSTER', 'FROM'])
    expect(text.split('\n')[1].split(/\s+/).slice(0, 3)).toEqual(['5987', '20', '10.0'])
  })

  it('names each proxy or cluster that could not be read', () => {
    expect(renderUnreadable([{cluster: 'kind3', namespace: 'default', pod: 'details-v1-x', reason: 'no answer'}, {cluster: 'kind4', reason: 'connection refused'}], 9)).toEqual([
      '2 could not be read (of 9 proxies found):', '  kind3/default/details-v1-x: no answer', '  cluster kind4: connection refused',
    ])
  })
})
