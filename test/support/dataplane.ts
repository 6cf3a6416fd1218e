// For the data plane tests on the demo's live Envoys (root): whether every Envoy accepts its whole config, and
// waiting for the istiod stand-in to have caught up with what a sync wrote.
import {adminGet, type DataPlaneState} from '../../src/dataplane/index.js'
import {envoyAccepts} from '../../src/dataplane/envoy.js'
import {readIstiodStatus} from '../../src/dataplane/istiod.js'

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
