/**
 * Issue 10's stats must-show, on the demo's real Envoys (own demo, own folder; root, and the data plane lock): the
 * seed walkthrough synced, `demo traffic` from kind2's productpage to reviews:9080, then `kubectl smh stats` read
 * through the API servers' pod proxy with the registrations' stored tokens. The table names kind2's reviews; after
 * `demo fail kind2/default/reviews` the rows served by kind3 grow, and `--watch -o json` shows kind3's delta while the
 * traffic runs. `-o json` has the table's rows; a proxy that does not answer is named on stderr and the exit is 0.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DataPlaneState} from '../../src/dataplane/index.js'
import type {StatsRow} from '../../src/observe/stats.js'
import {dataPlaneDir, demoFail, demoTraffic} from '../../src/services/demo/dataplane.js'
import type {StatsReading} from '../../src/services/stats.js'
import {RUN_JS, runCli} from '../support/cli.js'
import {dataPlaneUp, walkthroughOnDataPlane} from '../support/dataplane.js'

const ROOT = process.getuid?.() === 0
const demoDir = mkdtempSync(join(tmpdir(), 'smh-stats-'))
const kubeconfig = join(demoDir, 'kubeconfig')
const env = {KUBECTL_SMH_DEMO_DIR: demoDir}
const cli = (args: string[]) => runCli(args, {env})
const stats = (args: string[] = []) => cli(['stats', '--kubeconfig', kubeconfig, ...args])
const dir = dataPlaneDir(demoDir)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const traffic = (requests: number, rate?: number) => demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests, rate})
let state: DataPlaneState

const REVIEWS2 = 'spiffe://kind2/ns/default/sa/bookinfo-reviews'
const REVIEWS3 = 'spiffe://kind3/ns/default/sa/bookinfo-reviews'
const PRODUCTPAGE2 = 'spiffe://kind2/ns/default/sa/bookinfo-productpage'
const served = (rows: StatsRow[], cluster: string, source = 'envoy-outbound') => rows.filter((r) => r.targetCluster === cluster && r.source === source).reduce((n, r) => n + r.requests, 0)

/** The table's rows as the JSON fields they show (no service column: --service keeps one service). */
function tableRows(stdout: string): string[][] {
  const [header, ...lines] = stdout.trim().split('\n')
  expect(header.split(/\s{2,}/)).toEqual(['# REQ', 'RESP', 'SOURCE PRINCIPAL', 'TARGET PRINCIPAL', 'TARGET VERSION', 'TARGET CLUSTER', 'FROM'])
  return lines.map((l) => l.trim().split(/\s+/))
}
const asTable = (r: StatsRow) => [String(r.requests), r.code || '-', r.sourcePrincipal || '-', r.targetPrincipal || '-', r.targetVersion || '-', r.targetCluster || '-', r.source]

describe('kubectl smh stats on the demo data plane (real Envoys, read through the API servers)', () => {
  beforeAll(async () => {
    if (!ROOT) throw new Error('the data plane tests need root (network namespaces, veth pairs, iptables): run the integration suite as root, as CI does')
    await dataPlaneUp(cli, dir)
    state = await walkthroughOnDataPlane(cli, dir)
  }, 400_000)
  afterAll(async () => {
    if (ROOT) await cli(['demo', 'down'])
  }, 120_000)

  it("names kind2's reviews while kind2 serves; -o json has the table's rows", async () => {
    const sent = await traffic(40)
    expect(sent.codes).toEqual({200: 40})
    const table = await stats(['--service', 'kind2/default/reviews'])
    expect(table.code, table.stderr).toBe(0)
    const json = await stats(['--service', 'kind2/default/reviews', '-o', 'json'])
    expect(json.code, json.stderr).toBe(0)
    const reading = JSON.parse(json.stdout) as StatsReading
    console.log(`stats before the failover (${reading.read}/${reading.proxies} proxies, ${reading.requests} requests, ${reading.elapsedMs} ms):\n${table.stdout}`)
    expect(reading.unreadable).toEqual([])
    expect(reading.read).toBe(reading.proxies)
    // The client's view: productpage's Envoy sent 40 requests to kind2's reviews, none to kind3.
    const outbound = reading.rows.filter((r) => r.source === 'envoy-outbound')
    expect(outbound.map((r) => [r.requests, r.sourcePrincipal, r.targetPrincipal, r.targetCluster])).toEqual([[40, PRODUCTPAGE2, REVIEWS2, 'kind2']])
    // The servers' view: kind2's reviews v1 and v2 answered them, 200 each.
    const inbound = reading.rows.filter((r) => r.source === 'envoy-inbound')
    expect(inbound.reduce((n, r) => n + r.requests, 0)).toBe(40)
    expect(new Set(inbound.map((r) => `${r.targetPrincipal} ${r.targetVersion} ${r.targetCluster} ${r.code}`))).toEqual(new Set([`${REVIEWS2} v1 kind2 200`, `${REVIEWS2} v2 kind2 200`]))
    expect(tableRows(table.stdout)).toEqual(reading.rows.map(asTable))
  }, 120_000)

  it('after demo fail kind2/default/reviews the rows served by kind3 grow; --watch -o json shows the delta as it happens', async () => {
    const before = JSON.parse((await stats(['--service', 'kind2/default/reviews', '-o', 'json'])).stdout) as StatsReading
    expect(served(before.rows, 'kind3')).toBe(0)
    const watch = spawn(process.execPath, [RUN_JS, 'stats', '--kubeconfig', kubeconfig, '--service', 'kind2/default/reviews', '--watch', '--interval', '1s', '-o', 'json'], {env: {...process.env, ...env, NO_COLOR: '1'}})
    let out = ''
    let err = ''
    watch.stdout.on('data', (d) => (out += d))
    watch.stderr.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => watch.on('close', (code) => resolve(code)))
    // Whole lines only: the last one may still be being written.
    const readings = () => out.split('\n').slice(0, -1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as StatsReading)
    try {
      for (let i = 0; i < 100 && readings().length < 2; i++) await sleep(200)
      expect(readings().length, err).toBeGreaterThanOrEqual(2)
      expect(demoFail({demoDir, target: 'kind2/default/reviews'}).pods.length).toBe(2)
      const sent = await traffic(80, 20)
      expect(sent.by.some((b) => b.cluster === 'kind3'), JSON.stringify(sent.by)).toBe(true)
      const count = readings().length
      for (let i = 0; i < 50 && readings().length < count + 2; i++) await sleep(200)
    } finally {
      watch.kill('SIGTERM')
    }
    expect(await exited, err).toBe(0)
    const all = readings()
    // One JSON document per interval, each with deltas over its interval once there is a previous reading.
    expect(all.slice(1).every((r) => typeof r.intervalSeconds === 'number' && r.rows.every((row) => typeof row.delta === 'number'))).toBe(true)
    const kind3Deltas = all.map((r) => r.rows.filter((row) => row.targetCluster === 'kind3' && row.source === 'envoy-outbound').reduce((n, row) => n + (row.delta ?? 0), 0))
    console.log(`--watch: kind3 deltas per reading ${JSON.stringify(kind3Deltas)}; kind3 rate ${JSON.stringify(all.map((r) => r.rows.filter((row) => row.targetCluster === 'kind3').map((row) => row.rate)))}`)
    expect(Math.max(...kind3Deltas)).toBeGreaterThan(0)
    expect(kind3Deltas[0]).toBe(0)

    const after = JSON.parse((await stats(['--service', 'kind2/default/reviews', '-o', 'json'])).stdout) as StatsReading
    const table = await stats(['--service', 'kind2/default/reviews'])
    console.log(`stats after demo fail:\n${table.stdout}`)
    expect(served(after.rows, 'kind3')).toBeGreaterThan(20)
    expect(after.rows.some((r) => r.source === 'envoy-outbound' && r.targetCluster === 'kind3' && r.targetPrincipal === REVIEWS3 && r.sourcePrincipal === PRODUCTPAGE2)).toBe(true)
    // kind2's failing reviews answered 503 before outlier detection ejected them.
    expect(after.rows.some((r) => r.source === 'envoy-inbound' && r.targetCluster === 'kind2' && r.code === '503')).toBe(true)
    expect(tableRows(table.stdout)).toEqual(after.rows.map(asTable))
    // kind3's own view of reviews: its pods served what kind2 sent.
    const kind3 = JSON.parse((await stats(['--service', 'kind3/default/reviews', '-o', 'json'])).stdout) as StatsReading
    expect(served(kind3.rows, 'kind3', 'envoy-inbound')).toBeGreaterThan(20)
  }, 180_000)

  it('a proxy that does not answer is named on stderr, the others are shown, exit 0', async () => {
    const pod = state.pods.find((p) => p.cluster === 'kind3' && p.deployment === 'details-v1')!
    // Frozen, its Envoy accepts the API server's connection and never answers.
    process.kill(pod.proxy!.pid, 'SIGSTOP')
    try {
      const result = await stats(['--request-timeout', '3s', '-o', 'json'])
      expect(result.code, result.stderr).toBe(0)
      expect(result.stderr).toContain(`kind3/default/${pod.name}: `)
      expect(result.stderr).toMatch(/1 could not be read \(of \d+ proxies found\)/)
      const reading = JSON.parse(result.stdout) as StatsReading
      expect(reading.unreadable.map((u) => `${u.cluster}/${u.namespace}/${u.pod}`)).toEqual([`kind3/default/${pod.name}`])
      expect(reading.read).toBe(reading.proxies - 1)
      expect(served(reading.rows, 'kind3')).toBeGreaterThan(0)
    } finally {
      process.kill(pod.proxy!.pid, 'SIGCONT')
    }
  }, 60_000)

  it('an unknown --service is exit 2 with the nearest names, nothing on stdout', async () => {
    const result = await stats(['--service', 'kind2/default/reviewz'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/--service kind2\/default\/reviewz: no such Service; nearest: kind2\/default\/reviews/)
  }, 60_000)
})
