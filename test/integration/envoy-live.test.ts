// One real Envoy (no namespaces, no root) on fileXds output for the seed's kind2 productpage sidecar: it accepts its
// whole config (envoyAccepts: nothing rejected, nothing warming), serves Prometheus stats on 15090 as Istio's
// sidecars do, and takes a rewrite of its files (another golden case's config for the same proxy, as after a sync)
// without a restart. A rewrite Envoy refuses shows up in envoyAccepts, and the last good config stays.
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ProxyXds, fileXds} from '../../src/dataplane/envoy-config.js'
import {type Acceptance, envoyAccepts, envoyArgs, envoyBinary, writeXdsFiles} from '../../src/dataplane/envoy.js'
import {ensureEnvoy, goldenProxies, testSecrets} from '../support/envoy.js'

ensureEnvoy()

const certs = testSecrets()
const dir = mkdtempSync(join(tmpdir(), 'smh-envoy-live-'))
let envoy: ChildProcess
let admin: string
let adminPort: number
let log = ''

async function productpage(caseName: string): Promise<ProxyXds> {
  const p = (await goldenProxies([caseName])).find((x) => x.cluster === 'kind2' && /\/productpage-/.test(x.pod))!
  return p.xds()
}
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    try {
      if (await check()) return
    } catch {}
    await sleep(100)
  }
  const verdict = await envoyAccepts(admin).catch((e) => ({problems: [String(e)], stats: {}}))
  const lines = log.split('\n').filter((l) => l.trim() && !/Deprecated field|deprecated option|discouraged override/.test(l))
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(verdict.problems)} ${JSON.stringify(verdict.stats).slice(0, 1500)}\nenvoy log:\n${lines.slice(-20).join('\n').slice(-3000)}`)
}
const json = async (path: string) => (await fetch(`${admin}${path}`)).json() as Promise<any>
const stat = async (name: string): Promise<number> => Number(/: (\d+)/.exec(await (await fetch(`${admin}/stats?filter=^${name.replace(/[.|]/g, '\\$&')}$`)).text())?.[1] ?? NaN)
async function dynamicClusters(): Promise<string[]> {
  const dump = await json('/config_dump?resource=dynamic_active_clusters')
  return dump.configs.map((c: any) => c.cluster.name).sort()
}

beforeAll(async () => {
  adminPort = await freePort()
  admin = `http://127.0.0.1:${adminPort}`
}, 10_000)
async function stopEnvoy(): Promise<void> {
  if (envoy && envoy.exitCode === null) {
    envoy.kill()
    await new Promise((r) => envoy.once('exit', r))
  }
}
afterAll(async () => {
  await stopEnvoy()
  rmSync(dir, {recursive: true, force: true})
  rmSync(certs.dir, {recursive: true, force: true})
})

describe('a running Envoy on file-based xDS, one file per EDS and RDS resource (seed kind2 productpage)', () => {
  let seed: ProxyXds
  let startedPid: number | undefined
  // Envoy's listeners use SO_REUSEPORT: two Envoys on one host would share 15090 silently, so one at a time.
  afterAll(stopEnvoy)

  it('starts, accepts its whole config, serves /stats/prometheus on 15090 and /healthz/ready on 15021', async () => {
    seed = await productpage('seed-failover')
    const out = fileXds(seed, dir, {secrets: certs.secrets, admin: {port: adminPort}, layout: 'split'})
    writeXdsFiles(out.files)
    envoy = spawn(envoyBinary(), envoyArgs(out.bootstrap, {logLevel: 'info'}), {stdio: ['ignore', 'ignore', 'pipe']})
    envoy.stderr!.on('data', (d) => (log += d))
    startedPid = envoy.pid
    let verdict: Acceptance | undefined
    await until('the config to be accepted', async () => (verdict = await envoyAccepts(admin)).accepted)
    expect(verdict!.problems).toEqual([])
    expect(verdict!.stats['listener_manager.lds.update_success']).toBe(1)
    expect(verdict!.stats['cluster_manager.cds.update_success']).toBe(1)
    expect(await dynamicClusters()).toEqual(seed.clusters.map((c) => c.name).sort())
    expect(await dynamicClusters()).toContain('outbound|9080||reviews-failover.default.global')
    const prom = await (await fetch('http://127.0.0.1:15090/stats/prometheus')).text()
    expect(prom).toMatch(/^envoy_cluster_manager_active_clusters\{\} \d+$/m)
    expect((await fetch('http://127.0.0.1:15021/healthz/ready')).status).toBe(200)
  })

  it('takes a rewrite of its files without a restart: new clusters, listeners and routes, nothing rejected or warming', async () => {
    const shift = await productpage('traffic-shift-across-clusters')
    const out = fileXds(shift, dir, {secrets: certs.secrets, admin: {port: adminPort}, layout: 'split'})
    const written = writeXdsFiles(out.files)
    expect(written).toContain(join(dir, 'cds.json'))
    expect(written.some((f) => f.includes('/rds/'))).toBe(true)
    expect(written).not.toContain(join(dir, 'bootstrap.json')) // the bootstrap never changes for a proxy
    // Only the files whose content changed were moved (lds.json stays when only routes and clusters differ).
    const ldsWanted = written.includes(join(dir, 'lds.json')) ? 2 : 1
    const shifted = async () => {
      const routes = await json('/config_dump?resource=dynamic_route_configs')
      const r9080 = routes.configs.find((c: any) => c.route_config.name === '9080').route_config
      const reviews = r9080.virtual_hosts.find((v: any) => v.name === 'reviews.default.svc.cluster.local:9080')
      return JSON.stringify(reviews.routes[0].route.weighted_clusters?.clusters.map((c: any) => c.weight)) === '[75,25]'
    }
    await until('the rewrite to be applied', async () => (await stat('listener_manager.lds.update_success')) === ldsWanted && (await stat('cluster_manager.cds.update_success')) === 2 && (await shifted()) && (await envoyAccepts(admin)).accepted)
    const verdict = await envoyAccepts(admin)
    expect(verdict.problems).toEqual([])
    expect(await dynamicClusters()).toEqual(shift.clusters.map((c) => c.name).sort())
    expect(await dynamicClusters()).not.toEqual(seed.clusters.map((c) => c.name).sort())
    // Same process, never restarted.
    expect(envoy.exitCode).toBeNull()
    expect(envoy.pid).toBe(startedPid)
    expect(await stat('server.hot_restart_epoch')).toBe(0)
    // And back: the seed's config again (the files' versions change back, the update applies again).
    writeXdsFiles(fileXds(seed, dir, {secrets: certs.secrets, admin: {port: adminPort}, layout: 'split'}).files)
    await until('the seed config to be back', async () => JSON.stringify(await dynamicClusters()) === JSON.stringify(seed.clusters.map((c) => c.name).sort()) && (await envoyAccepts(admin)).accepted)
  })

  it('a rewrite Envoy cannot parse or refuses is reported by envoyAccepts, and the last good config stays', async () => {
    const out = fileXds(seed, dir, {secrets: certs.secrets, admin: {port: adminPort}, layout: 'split'})
    const lds = out.files.find((f) => f.path.endsWith('/lds.json'))!
    const listenersBefore = (await json('/config_dump?resource=dynamic_listeners')).configs.map((c: any) => c.name).sort()
    const put = (content: unknown) => {
      writeFileSync(join(dir, '.lds.tmp'), JSON.stringify(content))
      renameSync(join(dir, '.lds.tmp'), lds.path)
    }
    // An Any whose @type this Envoy does not know: the file does not parse (update_failure).
    const unknown = JSON.parse(lds.content)
    unknown.versionInfo = 'unknown-type'
    unknown.resources[0].filterChains[0].filters.unshift({name: 'acme.unknown', typedConfig: {'@type': 'type.googleapis.com/acme.Unknown'}})
    put(unknown)
    await until('the failure to show', async () => (await stat('listener_manager.lds.update_failure')) >= 1)
    let verdict = await envoyAccepts(admin)
    expect(verdict.accepted).toBe(false)
    expect(verdict.problems).toContain('listener_manager.lds.update_failure = 1')
    // A parsed update that breaks a rule (a port beyond 65535): Envoy refuses it (update_rejected).
    const invalid = JSON.parse(lds.content)
    invalid.versionInfo = 'bad-port'
    invalid.resources[0].address.socketAddress.portValue = 70000
    put(invalid)
    await until('the rejection to show', async () => (await stat('listener_manager.lds.update_rejected')) >= 1)
    verdict = await envoyAccepts(admin)
    expect(verdict.problems).toContain('listener_manager.lds.update_rejected = 1')
    expect((await json('/config_dump?resource=dynamic_listeners')).configs.map((c: any) => c.name).sort()).toEqual(listenersBefore)
    expect(envoy.exitCode).toBeNull()
  })
})

describe('every proxy of the seed scenario, one after another on this host', () => {
  it('a running Envoy accepts its whole fileXds config (default inline layout): sidecars and gateways of kind2 and kind3', async () => {
    const proxies = await goldenProxies(['seed-failover'])
    expect(proxies.length).toBeGreaterThanOrEqual(10)
    const refused: string[] = []
    for (const p of proxies) {
      const xds = await p.xds()
      const folder = mkdtempSync(join(tmpdir(), 'smh-envoy-seed-'))
      const port = await freePort()
      const out = fileXds(xds, folder, {secrets: certs.secrets, admin: {port}})
      writeXdsFiles(out.files)
      const child = spawn(envoyBinary(), envoyArgs(out.bootstrap), {stdio: ['ignore', 'ignore', 'pipe']})
      let childLog = ''
      child.stderr!.on('data', (d) => (childLog += d))
      let verdict: Acceptance | undefined
      const end = Date.now() + 15_000
      while (Date.now() < end && !verdict?.accepted) {
        await sleep(200)
        verdict = await envoyAccepts(`http://127.0.0.1:${port}`).catch(() => undefined)
      }
      if (!verdict?.accepted) refused.push(`${p.cluster} ${p.pod}: ${verdict?.problems.join('; ') ?? 'admin never answered'} ${childLog.split('\n').filter((l) => /error|critical/.test(l)).join(' ').slice(0, 400)}`)
      else expect(verdict.stats['cluster_manager.active_clusters'], p.pod).toBe(xds.clusters.length + 3)
      child.kill()
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)))
      rmSync(folder, {recursive: true, force: true})
    }
    expect(refused).toEqual([])
  }, 300_000)
})
