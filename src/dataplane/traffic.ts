/**
 * Requests from inside a pod's namespace, as its app would send them: through its capture, so through its Envoy.
 * A small client runs in the namespace (as root, so capture applies) and reports each answer; here they are
 * counted by who answered (the app's JSON identity) and by response code.
 */
import {spawn} from 'node:child_process'

import {SmhError} from '../errors.js'

export interface TrafficOptions {
  netns: string
  /** Where to connect (an IP: a Service VIP, a pod IP, a ServiceEntry VIP). */
  address: string
  port: number
  /** The Host header (what the user typed: `reviews:9080`). */
  host: string
  path?: string
  requests: number
  /** Requests per second; 0 or undefined: one after the other, as fast as they come back. */
  rate?: number
  timeoutMs?: number
}

export interface Answer {
  code: number
  /** `cluster/pod` of the app that answered, when its JSON body says so. */
  cluster?: string
  pod?: string
  version?: string
  stars?: string
  error?: string
  ms: number
}

export interface TrafficResult {
  requests: number
  codes: Record<string, number>
  by: {cluster: string; pod: string; version: string; count: number; codes: Record<string, number>}[]
  answers: Answer[]
}

const CLIENT = `
import {request} from 'node:http'
const o = JSON.parse(process.argv[1])
const one = () => new Promise((resolve) => {
  const t0 = Date.now()
  const req = request({host: o.address, port: o.port, path: o.path, headers: {host: o.host}, agent: false, timeout: o.timeoutMs}, (res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (d) => (body += d))
    res.on('end', () => {
      let who = {}
      try { who = JSON.parse(body) } catch {}
      resolve({code: res.statusCode, cluster: who.cluster, pod: who.pod, version: who.version, stars: who.stars, ms: Date.now() - t0, ...(res.statusCode >= 400 ? {error: (who.error ?? body).slice(0, 200)} : {})})
    })
  })
  req.on('timeout', () => req.destroy(new Error('timeout')))
  req.on('error', (e) => resolve({code: 0, error: e.code ?? e.message, ms: Date.now() - t0}))
  req.end()
})
const gap = o.rate > 0 ? 1000 / o.rate : 0
const start = Date.now()
for (let i = 0; i < o.requests; i++) {
  if (gap) { const wait = start + i * gap - Date.now(); if (wait > 0) await new Promise((r) => setTimeout(r, wait)) }
  process.stdout.write(JSON.stringify(await one()) + '\\n')
}
`

/** Sends the requests and counts the answers; onAnswer sees each as it comes (progress, benchmarks). */
export async function sendTraffic(options: TrafficOptions, onAnswer?: (a: Answer, i: number) => void): Promise<TrafficResult> {
  const payload = JSON.stringify({address: options.address, port: options.port, host: options.host, path: options.path ?? '/', requests: options.requests, rate: options.rate ?? 0, timeoutMs: options.timeoutMs ?? 5000})
  const child = spawn('ip', ['netns', 'exec', options.netns, process.execPath, '--input-type=module', '-e', CLIENT, payload], {stdio: ['ignore', 'pipe', 'pipe']})
  const answers: Answer[] = []
  let rest = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const lines = (rest + d).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines.filter(Boolean)) {
      const a = JSON.parse(line) as Answer
      answers.push(a)
      onAnswer?.(a, answers.length - 1)
    }
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new SmhError(`traffic from ${options.netns} failed (exit ${code}): ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`)
  return summarize(answers)
}

export function summarize(answers: Answer[]): TrafficResult {
  const codes: Record<string, number> = {}
  const by = new Map<string, TrafficResult['by'][number]>()
  for (const a of answers) {
    codes[String(a.code)] = (codes[String(a.code)] ?? 0) + 1
    const key = `${a.cluster ?? '-'}/${a.pod ?? '-'}`
    const row = by.get(key) ?? {cluster: a.cluster ?? '-', pod: a.pod ?? '-', version: a.version ?? '-', count: 0, codes: {}}
    row.count++
    row.codes[String(a.code)] = (row.codes[String(a.code)] ?? 0) + 1
    by.set(key, row)
  }
  return {requests: answers.length, codes, by: [...by.values()].sort((x, y) => y.count - x.count || `${x.cluster}/${x.pod}`.localeCompare(`${y.cluster}/${y.pod}`)), answers}
}
