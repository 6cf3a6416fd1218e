#!/usr/bin/env node
// Benchmark of `kubectl smh check` (issue 10) over 3 clusters: kind1 (management), kind2 and kind3 seeded with the
// demo's bookinfo and Istio, the seed's walkthrough done (install, register, virtual mesh with shared trust, outlier
// detection, failover service, traffic shift: not measured). Measured, per round:
//   service   observe({deep: true}) + runChecks in this process: every read check makes (SMH resources, discovery
//             of both clusters, API server versions, generated objects with their field managers, the root and
//             each mesh's cacerts), clusters in parallel
//   cli       the built CLI `kubectl smh check` as a user runs it (a new node process: startup included)
// Prints figures, asserts nothing. Usage (after npm run build): node bench/check.js [--rounds 5]
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {fmtSeconds as fmt, machineLoad, median, since, withControlPlanes} from './support.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const rounds = Number(args[args.indexOf('--rounds') + 1] || 5) || 5

const {seedBlogClusters} = await import('../dist/services/demo/index.js')
const {loadKubeconfig} = await import('../dist/kube/kubeconfig.js')
const {ClusterClient} = await import('../dist/kube/client.js')
const {walkthrough} = await import('../dist/services/demo/walkthrough.js')
const {observe} = await import('../dist/services/observe.js')
const {runChecks} = await import('../dist/observe/check.js')

const clusters = ['kind1', 'kind2', 'kind3']
const setup = process.hrtime.bigint()
await withControlPlanes('check', clusters, async (plane) => {
  await seedBlogClusters(plane.state.kubeconfig, clusters)
  const kc = loadKubeconfig({kubeconfig: plane.state.kubeconfig})
  const mgmt = ClusterClient.forContext(kc, 'kind1')
  await walkthrough({kubeconfig: kc, mgmt, clusters})
  console.log(`check over 3 clusters (kind1 management; kind2, kind3 with bookinfo, the seed's walkthrough synced); ${machineLoad()}`)
  console.log(`  setup (not measured): ${fmt(since(setup))}`)

  const service = []
  let report
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    report = runChecks(await observe({mgmt: ClusterClient.forContext(kc, 'kind1'), deep: true}))
    service.push(since(start))
  }
  console.log(`  service (observe + runChecks): median ${fmt(median(service))} (${service.map(fmt).join(', ')}); ${report.passed} passed, ${report.failed} failed, ${report.warnings} warnings`)

  const cli = []
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), 'check'], {env: {...process.env, KUBECONFIG: plane.state.kubeconfig, NO_COLOR: '1'}, encoding: 'utf8'})
    cli.push(since(start))
    if (r.status !== 0) console.log(`  (check exited ${r.status}: ${r.stderr.trim()})`)
  }
  console.log(`  cli (kubectl smh check, new process): median ${fmt(median(cli))} (${cli.map(fmt).join(', ')})`)
})
