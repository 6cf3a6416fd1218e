// Preloaded into the CLI by bench/sync.js (node --import): counts, in the CLI's own process, the TLS connections it
// opens (per host:port) and the HTTPS requests it sends (per method and path), and writes both to
// $BENCH_CONNECTIONS_FILE at exit, with the process's peak RSS. It only counts: every request goes to the API servers unchanged.
import {writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const tls = require('node:tls')
const https = require('node:https')
const connections = {}
const requests = {}
const connect = tls.connect
tls.connect = function (...args) {
  const options = typeof args[0] === 'object' ? args[0] : {port: args[0], host: args[1]}
  const to = `${options.host ?? options.servername ?? ''}:${options.port ?? ''}`
  connections[to] = (connections[to] ?? 0) + 1
  return connect.apply(this, args)
}
const send = https.request
https.request = function (...args) {
  const options = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) ?? {}
  const url = args.find((a) => typeof a === 'string' || a instanceof URL)
  const path = String(options.path ?? (url ? new URL(url).pathname : '')).split('?')[0]
  const key = `${options.method ?? 'GET'} ${options.port ?? ''} ${path}`
  requests[key] = (requests[key] ?? 0) + 1
  return send.apply(this, args)
}
process.on('exit', () => {
  if (process.env.BENCH_CONNECTIONS_FILE) writeFileSync(process.env.BENCH_CONNECTIONS_FILE, JSON.stringify({connections, requests, maxRss: process.resourceUsage().maxRSS * 1024}))
})
