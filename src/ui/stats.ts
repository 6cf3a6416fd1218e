/** How `kubectl smh stats` reads on a terminal: the seed's table, plus the serving cluster and where each row comes from. */
import type {StatsRow} from '../observe/stats.js'
import type {StatsReading, Unreadable} from '../services/stats.js'
import {type Column, renderTable} from './output.js'

const orDash = (v: string) => (v === '' ? '-' : v)

/** The table of one reading; with deltas (--watch) two more columns: requests in the interval and per second. */
export function renderStatsTable(reading: StatsReading): string {
  if (reading.rows.length === 0) return ''
  const watching = reading.intervalSeconds !== undefined
  // The seed's table has no service column (it looked at one sidecar's calls to one service); show it when rows mix services.
  const services = new Set(reading.rows.map((r) => r.targetService))
  const columns: Column<StatsRow>[] = [
    {header: '# Req', get: (r) => r.requests},
    ...(watching ? [{header: 'Δ', get: (r: StatsRow) => r.delta}, {header: '/s', get: (r: StatsRow) => r.rate?.toFixed(1)}] : []),
    {header: 'Resp', get: (r) => orDash(r.code)},
    {header: 'Source principal', get: (r) => orDash(r.sourcePrincipal)},
    ...(services.size > 1 ? [{header: 'Target service', get: (r: StatsRow) => orDash(r.targetService)}] : []),
    {header: 'Target principal', get: (r) => orDash(r.targetPrincipal)},
    {header: 'Target version', get: (r) => orDash(r.targetVersion)},
    {header: 'Target cluster', get: (r) => orDash(r.targetCluster)},
    {header: 'From', get: (r) => r.source},
  ]
  return renderTable(reading.rows, columns)
}

/** One line per proxy or cluster that could not be read (stderr). */
export function renderUnreadable(unreadable: Unreadable[], proxies: number): string[] {
  if (unreadable.length === 0) return []
  return [
    `${unreadable.length} could not be read (of ${proxies} proxies found):`,
    ...unreadable.map((u) => `  ${u.pod ? `${u.cluster}/${u.namespace}/${u.pod}` : `cluster ${u.cluster}`}: ${u.reason}`),
  ]
}

/** The line above each --watch table: when, over which interval, what was read. */
export function renderWatchHeader(reading: StatsReading, intervalMs: number): string {
  const over = reading.intervalSeconds === undefined ? 'first reading, deltas from the next' : `Δ over ${reading.intervalSeconds.toFixed(1)} s`
  return `Every ${intervalMs / 1000}s: ${reading.at}  (${over}; ${reading.read}/${reading.proxies} proxies read, ${reading.requests} requests, ${reading.elapsedMs} ms)`
}
