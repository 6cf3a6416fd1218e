// For the data plane tests on the demo's live Envoys (root): bringing the data plane up, whether every Envoy accepts
// its whole config, and waiting for the istiod stand-in to have caught up with what a sync wrote.
import {adminGet, type DataPlaneState, readDataPlaneState} from '../../src/dataplane/index.js'
import {envoyAccepts} from '../../src/dataplane/envoy.js'
import {readIstiodStatus, waitForGeneration} from '../../src/dataplane/istiod.js'
import type {CliResult} from './cli.js'

/** `kubectl smh ...` in the test's own demo folder (KUBECTL_SMH_DEMO_DIR). */
type DemoCli = (args: string[]) => Promise<CliResult>

const WORKLOAD_CLUSTERS = ['kind2', 'kind3']

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Until every Envoy of the data plane accepts its whole config (no rejected or failed update since it started,
 * nothing warming, no listener that failed to bind, LDS and CDS applied), or throws naming each proxy and problem.
 * Returns the DNS clusters whose name lookups failed, per proxy (Envoy took their config; the lookup failed).
 */
export async function allAccepted(state: DataPlaneState, timeoutMs = 90_000): Promise<Record<string, Record<string, number>>> {
  const end = Date.now() + timeoutMs
  let problems: string[] = []
  for (;;) {
    problems = []
    // Per proxy, its DNS clusters whose name lookups failed (not a refused config: see envoyAccepts).
    const dnsFailures: Record<string, Record<string, number>> = {}
    for (const p of state.pods) {
      const verdict = await envoyAccepts('http://127.0.0.1:15000', {get: (path) => adminGet(p.netns, path)}).catch((e: Error) => ({accepted: false, problems: [e.message], dnsFailures: {}}))
      if (!verdict.accepted) problems.push(`${p.cluster}/${p.name}: ${verdict.problems.join('; ')}`)
      if (Object.keys(verdict.dnsFailures).length) dnsFailures[`${p.cluster}/${p.name}`] = verdict.dnsFailures
    }
    if (problems.length === 0) return dnsFailures
    if (Date.now() > end) throw new Error(`Envoys that did not accept their config:\n${problems.join('\n')}`)
    await sleep(1000)
  }
}

/**
 * Until the istiod stand-in has finished a round that began after this call: that round read the clusters' objects
 * as they are now (whatever a sync just wrote) and wrote every proxy's files. A cluster whose objects did not change
 * gets no new generation, so generations alone cannot tell.
 */
export async function standInCaughtUp(dir: string, timeoutMs = 120_000): Promise<void> {
  const since = new Date().toISOString()
  const end = Date.now() + timeoutMs
  for (;;) {
    const started = readIstiodStatus(dir)?.roundStartedAt
    if (started && started > since) return
    if (Date.now() > end) throw new Error(`the istiod stand-in did not finish a round within ${timeoutMs / 1000}s (see ${dir}/istiod.log)`)
    await sleep(250)
  }
}

/** The stand-in's generation of each cluster now: what waitForGeneration waits past. */
export function generationsNow(dir: string): Record<string, number> {
  return Object.fromEntries(Object.entries(readIstiodStatus(dir)?.clusters ?? {}).map(([c, s]) => [c, s.generation]))
}

/**
 * `demo up --dataplane` (after the control planes, which it starts too), until the stand-in has generated every
 * proxy's config once; with `register`, then `install` and `register cluster kind2|kind3` as a user would. Returns the
 * data plane's state and the demo's kubeconfig.
 */
export async function dataPlaneUp(cli: DemoCli, dir: string, options: {register?: boolean} = {}): Promise<{state: DataPlaneState; kubeconfig: string}> {
  const up = await cli(['demo', 'up', '--dataplane', '-o', 'json'])
  if (up.code !== 0) throw new Error(`demo up --dataplane exited ${up.code}: ${up.stderr}`)
  const {kubeconfig} = JSON.parse(up.stdout) as {kubeconfig: string}
  await waitForGeneration(dir, WORKLOAD_CLUSTERS)
  for (const args of options.register ? [['install'], ...WORKLOAD_CLUSTERS.map((c) => ['register', 'cluster', c, '--remote-context', c])] : []) {
    const r = await cli([...args, '--kubeconfig', kubeconfig])
    if (r.code !== 0) throw new Error(`kubectl smh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  }
  return {state: readDataPlaneState(dir)!, kubeconfig}
}

/**
 * Until the stand-in has re-issued every workload cluster's certificates under its `cacerts` (the virtual mesh's
 * intermediate, as istiod's CA would) and then finished a round, so every proxy runs on them. Returns the state then.
 */
export async function certificatesFromCacerts(dir: string, timeoutMs = 90_000): Promise<DataPlaneState> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const cas = Object.entries(readDataPlaneState(dir)!.cas)
    if (cas.every(([, c]) => c.source === 'cacerts')) break
    if (Date.now() > end) throw new Error(`workload certificates not under cacerts after ${timeoutMs / 1000}s: ${cas.map(([k, c]) => `${k} ${c.source}`).join(', ')} (see ${dir}/istiod.log)`)
    await sleep(1000)
  }
  await standInCaughtUp(dir)
  return readDataPlaneState(dir)!
}

/**
 * The seed's walkthrough (`demo up --walkthrough`: install, register, the virtual mesh with its shared root, outlier
 * detection, the failover service, the shift) on a running data plane, until the stand-in has generated config for it
 * and every proxy's certificate is under the virtual mesh's root. Returns the state then.
 */
export async function walkthroughOnDataPlane(cli: DemoCli, dir: string): Promise<DataPlaneState> {
  const generations = generationsNow(dir)
  const walkthrough = await cli(['demo', 'up', '--walkthrough'])
  if (walkthrough.code !== 0) throw new Error(`demo up --walkthrough exited ${walkthrough.code}: ${walkthrough.stderr}`)
  await waitForGeneration(dir, WORKLOAD_CLUSTERS, generations)
  return certificatesFromCacerts(dir)
}
