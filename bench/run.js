#!/usr/bin/env node
// Benchmarks (npm run bench): prints figures, asserts nothing. Run after `npm run build` (the npm script does).
//  1. startup: `kubectl-smh --help` against `node -e 0`, median of several runs, and their ratio (target <= 4)
//  2. the local control planes: time to start 3 clusters (etcd + 3 kube-apiservers + Istio CRDs), cached binaries
//  3. translation at three sizes, when bench/translate.js is there (issue 3)
//  4. sync: `kubectl smh sync` from empty vs `kubectl apply --server-side` of the same objects, and a no-op sync's
//     requests, on 4 local clusters seeded with the translate benchmark's world (bench/sync.js; a few minutes)
//  5. discovery: live discovery of 3 clusters × 3,000 pods, time, pages and peak memory (bench/sync.js)
//     sync and discovery share one set of seeded clusters; BENCH_SYNC_SCALE=1/3 (or 1/10) for a smaller world
//  7. federation (issue 11): 3, 12 and 50 clusters × 1,000 services per federation mode (bench/federation.js), and
//     `translate` end to end on a 12 × 300 fleet of JSON snapshots against JSON.parse + JSON.stringify (bench/cli.js)
//  6. trust: the trust step of a virtual mesh (create virtualmesh) over 2 and 10 meshes, RSA 4096 and ECDSA P-256,
//     root vs per-mesh intermediates vs key generation alone (bench/trust.js; a few minutes, RSA key generation)
//  7. check: `kubectl smh check` over 3 clusters after the seed's walkthrough, wall time (bench/check.js)
//  8. stats: `kubectl smh stats` over 100 proxied pods in 3 clusters through the API servers, wall time and
//     requests (bench/stats.js; root, holds the data plane lock)
//  9. failover (issue 9; only when named: `node bench/run.js failover`, as root, the only data plane on the host):
//     the seed's failover on the demo's real Envoys, median of 5, and config delivery after a sync (bench/failover.js)
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.slice(2)
const wanted = (name) => only.length === 0 || only.includes(name)

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function timeRun(args, runs) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, args, {cwd: root, stdio: 'ignore'})
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  return times
}

if (wanted('startup')) {
  const runs = 15
  timeRun(['bin/run.js', '--help'], 2) // warm the file cache
  const node = timeRun(['-e', '0'], runs)
  const help = timeRun(['bin/run.js', '--help'], runs)
  const demoHelp = timeRun(['bin/run.js', 'demo', 'up', '--help'], runs)
  const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`
  console.log(`startup (${runs} runs each)`)
  console.log(`  node -e 0                     ${fmt(node)}`)
  console.log(`  kubectl-smh --help            ${fmt(help)}`)
  console.log(`  kubectl-smh demo up --help    ${fmt(demoHelp)}`)
  console.log(`  ratio --help / node -e 0      ${(median(help) / median(node)).toFixed(2)}  (target <= 4)`)
}

if (wanted('controlplane')) {
  const {startControlPlanes} = await import('../dist/controlplane/control-plane.js')
  const {istioCrdsFile} = await import('../dist/services/demo/index.js')
  const rounds = 3
  const times = []
  for (let i = 0; i < rounds; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'smh-bench-'))
    const start = process.hrtime.bigint()
    const plane = await startControlPlanes({clusters: ['kind1', 'kind2', 'kind3'], dir, crdsFile: istioCrdsFile()})
    times.push(Number(process.hrtime.bigint() - start) / 1e9)
    await plane.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  console.log(`control planes: 3 clusters (etcd + 3 kube-apiservers, Istio's 15 CRDs Established), ${rounds} rounds`)
  console.log(`  start: median ${median(times).toFixed(1)} s (${times.map((t) => t.toFixed(1)).join(', ')})`)
}

if (wanted('translate') && existsSync(join(root, 'bench', 'translate.js'))) {
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'bench', 'translate.js')], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}

if (wanted('federation')) {
  for (const script of ['federation.js', 'cli.js']) {
    const r = spawnSync(process.execPath, [join(root, 'bench', script)], {cwd: root, stdio: 'inherit'})
    if (r.status !== 0) process.exitCode = r.status ?? 1
  }
}

// One set of clusters for both (seeding is most of the time): bench/sync.js runs the sections asked for.
const live = ['sync', 'discovery'].filter(wanted)
if (live.length) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'sync.js'), ...live], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}

if (wanted('trust')) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'trust.js')], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}

if (wanted('check')) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'check.js')], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}

if (wanted('stats')) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'stats.js')], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}

if (only.includes('failover')) {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'failover.js')], {cwd: root, stdio: 'inherit'})
  if (r.status !== 0) process.exitCode = r.status ?? 1
}
