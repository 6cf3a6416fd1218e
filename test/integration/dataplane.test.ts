/**
 * The demo's data plane plumbing (issue 9), on the suite's kind2 and kind3 with a minimal static Envoy config of our
 * own (inbound 15006 → app, outbound 15001 → a Service's pods or the original destination): real network
 * namespaces at the pods' IPs, Istio's capture, apps, Envoys as uid 1337, workload certificates; `demo traffic`,
 * `fail`, `heal` and `down`. Needs root (namespaces, veth, iptables): CI runs as root; elsewhere it fails saying so.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CoreV1Api} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {isAlive} from '../../src/controlplane/processes.js'
import {checkAddressesFree, routeOf} from '../../src/dataplane/addresses.js'
import {envoyStats, natRules, ourLinks, ourNamespaces, readDataPlaneState, type DataPlaneState, type RunningPod} from '../../src/dataplane/index.js'
import {forContext, loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {RUN_JS, runCli} from '../support/cli.js'
import {generateRoot, issueIntermediate} from '../../src/trust/ca.js'
import {dataPlaneDir, demoDataPlaneDown, demoDataPlaneUp, demoFail, demoHeal, demoTraffic} from '../../src/services/demo/dataplane.js'

const ROOT = process.getuid?.() === 0
const demoDir = mkdtempSync(join(tmpdir(), 'smh-dataplane-'))
const kubeconfig = inject('kubeconfig')
let state: DataPlaneState
const pod = (cluster: string, deployment: string): RunningPod => state.pods.find((p) => p.cluster === cluster && p.deployment === deployment)!
const cli = (args: string[]) => runCli(args, {env: {KUBECTL_SMH_DEMO_DIR: demoDir}})
const hostNat = () => execFileSync('iptables', ['-t', 'nat', '-S'], {encoding: 'utf8'})
let hostNatBefore = ''

describe('the demo data plane: pods as network namespaces with Envoy, capture, apps and certificates', () => {
  beforeAll(async () => {
    if (!ROOT) throw new Error('the data plane tests need root (network namespaces, veth pairs, iptables): run the integration suite as root, as CI does')
    hostNatBefore = hostNat()
    await demoDataPlaneUp({demoDir, kubeconfig, clusters: ['kind2', 'kind3'], config: 'minimal', detached: false})
    state = readDataPlaneState(dataPlaneDir(demoDir))!
  }, 180_000)
  afterAll(async () => {
    if (ROOT) await demoDataPlaneDown(demoDir)
  })

  it('gives every sidecar pod and gateway of kind2 and kind3 a namespace at its pod IP (gateways also at their load-balancer address), routed only through its own link', () => {
    expect(state.pods.filter((p) => p.kind === 'sidecar').map((p) => `${p.cluster}/${p.deployment}`).sort()).toEqual([
      'kind2/details-v1', 'kind2/productpage-v1', 'kind2/ratings-v1', 'kind2/reviews-v1', 'kind2/reviews-v2',
      'kind3/details-v1', 'kind3/productpage-v1', 'kind3/ratings-v1', 'kind3/reviews-v1', 'kind3/reviews-v2', 'kind3/reviews-v3',
    ])
    const gateways = state.pods.filter((p) => p.kind === 'gateway')
    expect(gateways.map((g) => [g.cluster, g.addresses[1]])).toEqual([['kind2', '10.246.255.1'], ['kind3', '10.247.255.1']])
    expect(new Set(ourNamespaces())).toEqual(new Set(state.pods.map((p) => p.netns)))
    for (const p of state.pods) {
      for (const a of p.addresses) expect(routeOf(a).device, a).toBe(p.hostLink)
      const inside = execFileSync('ip', ['-n', p.netns, '-j', 'addr', 'show', 'eth0'], {encoding: 'utf8'})
      for (const a of p.addresses) expect(inside).toContain(`"local":"${a}"`)
      expect(execFileSync('ip', ['-n', p.netns, 'route', 'show', 'default'], {encoding: 'utf8'}).trim()).toBe('') // no default route
    }
  })

  it("refuses addresses that are the host's own or on its networks", () => {
    expect(() => checkAddressesFree(['192.0.2.2'])).toThrow(/192\.0\.2\.2 is one of this host's own addresses/)
    expect(() => checkAddressesFree(['192.0.2.77'])).toThrow(/192\.0\.2\.77 is in 192\.0\.2\.0\/24 on eth0/)
    // Ours, now routed through our links: a second data plane would clash.
    expect(() => checkAddressesFree([pod('kind2', 'reviews-v1').addresses[0]])).toThrow(/already routed through smh/)
  })

  it("captures traffic as istio-init does (inbound → 15006, outbound → 15001, uid/gid 1337 excluded) and runs Envoy as 1337", () => {
    const rules = natRules(pod('kind2', 'productpage-v1').netns)
    expect(rules).toContain('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001')
    expect(rules).toContain('-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006')
    expect(rules).toContain('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN')
    expect(rules).toContain('-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN')
    expect(rules).toContain('-A ISTIO_INBOUND -p tcp -m tcp --dport 15090 -j RETURN')
    expect(natRules(pod('kind3', 'istio-ingressgateway').netns)).not.toContain('ISTIO') // gateways capture nothing
    for (const p of state.pods) {
      expect(isAlive(p.proxy!.pid)).toBe(true)
      expect(readFileSync(`/proc/${p.proxy!.pid}/status`, 'utf8')).toMatch(/^Uid:\s+1337\s+1337\s+1337\s+1337$/m)
    }
  })

  it('productpage → reviews:9080 (the Service VIP) is answered by kind2\'s reviews v1 and v2, through both Envoys', async () => {
    const from = pod('kind2', 'productpage-v1')
    const before = await envoyStats(from, 'outbound\\|9080\\|\\|reviews')
    const result = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 40})
    expect(result.address).toBe(state.services.find((s) => s.cluster === 'kind2' && s.name === 'reviews')!.vip)
    expect(result.codes).toEqual({200: 40})
    const versions = Object.fromEntries(result.by.map((b) => [`${b.cluster}/${b.version}`, b.count]))
    expect(Object.keys(versions).sort()).toEqual(['kind2/v1', 'kind2/v2'])
    expect(versions['kind2/v1']).toBeGreaterThan(5) // round robin: about half each
    expect(versions['kind2/v2']).toBeGreaterThan(5)
    // Capture really went through Envoy: the client's Envoy counted 40 upstream requests, the servers' inbound 40.
    const after = await envoyStats(from, 'outbound\\|9080\\|\\|reviews')
    const rq = 'cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_200'
    expect(after[rq] - (before[rq] ?? 0)).toBe(40)
    let inbound = 0
    for (const r of [pod('kind2', 'reviews-v1'), pod('kind2', 'reviews-v2')]) inbound += (await envoyStats(r, 'inbound\\|9080'))['cluster.inbound|9080||.upstream_rq_200'] ?? 0
    expect(inbound).toBeGreaterThanOrEqual(40)
  })

  it('a pod IP is answered by that pod only; reviews-v3 in kind3 says red stars', async () => {
    const v2 = pod('kind2', 'reviews-v2')
    const result = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: `${v2.addresses[0]}:9080`, requests: 5})
    expect(result.by.map((b) => [b.pod, b.count])).toEqual([[v2.name, 5]])
    const v3 = pod('kind3', 'reviews-v3')
    const red = await demoTraffic({demoDir, from: 'kind3/default/productpage-v1', to: `${v3.addresses[0]}:9080`, requests: 1})
    expect(red.answers[0]).toMatchObject({code: 200, cluster: 'kind3', version: 'v3', stars: 'red stars'})
  })

  it('demo fail on the reviews Service makes every reviews app answer 503; heal brings back 200s', async () => {
    const failed = demoFail({demoDir, target: 'kind2/default/reviews'})
    expect(failed.pods.map((p) => p.split('/')[2].replace(/-[^-]+-[^-]+$/, '')).sort()).toEqual(['reviews-v1', 'reviews-v2'])
    const during = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 10})
    expect(during.codes).toEqual({503: 10})
    expect(during.by.every((b) => b.cluster === 'kind2')).toBe(true) // the apps themselves said 503
    demoHeal({demoDir})
    const after = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 10})
    expect(after.codes).toEqual({200: 10})
    // A Deployment alone, stopped: its port closes and its Envoy answers 503 for it.
    demoFail({demoDir, target: 'kind2/default/reviews-v1', stop: true})
    await new Promise((r) => setTimeout(r, 400))
    const stopped = await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: `${pod('kind2', 'reviews-v1').addresses[0]}:9080`, requests: 3})
    expect(stopped.codes).toEqual({503: 3})
    demoHeal({demoDir, target: 'kind2/default/reviews-v1'})
    await new Promise((r) => setTimeout(r, 400))
    expect((await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: `${pod('kind2', 'reviews-v1').addresses[0]}:9080`, requests: 3})).codes).toEqual({200: 3})
  })

  it('names are checked: unknown deployment, service or cluster is one line naming what exists', async () => {
    expect(() => demoFail({demoDir, target: 'kind2/default/reviwes'})).toThrow(/no Deployment or Service "reviwes" in kind2\/default \(there: .*reviews/)
    expect(() => demoFail({demoDir, target: 'kind9/default/reviews'})).toThrow(/no cluster "kind9"/)
    await expect(demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews'})).rejects.toThrow(/not HOST:PORT/)
  })

  it("each Envoy's Prometheus stats are readable on 15090 from the host and through the API server's pod proxy", async () => {
    const p = pod('kind2', 'productpage-v1')
    const direct = await (await fetch(`http://${p.addresses[0]}:15090/stats/prometheus`)).text()
    expect(direct).toMatch(/upstream_rq_total\{envoy_cluster_name="outbound\|9080\|\|reviews"\} [1-9]/) // counted by this Envoy
    const viaApi = execFileSync(binaryPath('kubectl'), ['--kubeconfig', kubeconfig, '--context', 'kind2', 'get', '--raw', `/api/v1/namespaces/default/pods/${p.name}:15090/proxy/stats/prometheus`], {encoding: 'utf8'})
    expect(viaApi).toContain('envoy_server_live')
    const gw = pod('kind3', 'istio-ingressgateway')
    expect(await (await fetch(`http://${gw.addresses[1]}:15090/stats/prometheus`)).text()).toContain('envoy_server_live')
  })

  it('through the built CLI: demo traffic (table and -o json), fail, heal, status; without root each says so and exits 2', async () => {
    const json = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews.default.svc.cluster.local:9080', '--requests', '20', '-o', 'json'])
    expect(json.code, json.stderr).toBe(0)
    const result = JSON.parse(json.stdout)
    expect(result.codes).toEqual({200: 20})
    expect(result.answers).toHaveLength(20)
    expect(new Set(result.by.map((b: {version: string}) => b.version))).toEqual(new Set(['v1', 'v2']))
    const fail = await cli(['demo', 'fail', 'kind2/default/reviews-v2'])
    expect(fail.code, fail.stderr).toBe(0)
    expect(fail.stderr).toMatch(/answering 503: kind2\/default\/reviews-v2-/)
    const table = await cli(['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080', '--requests', '10'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^kind2\s+reviews-v1-\S+\s+v1\s+5\s+200×5$/m)
    expect(table.stdout).toMatch(/^kind2\s+reviews-v2-\S+\s+v2\s+5\s+503×5$/m)
    expect(table.stderr).toContain('10 requests from kind2/default/productpage-v1')
    expect((await cli(['demo', 'heal'])).code).toBe(0)
    const status = JSON.parse((await cli(['demo', 'status', '-o', 'json'])).stdout)
    const dp = status.processes.filter((p: {role: string}) => p.role === 'data plane')
    expect(dp.length).toBe(state.pods.length + state.pods.filter((p) => p.kind === 'sidecar').length)
    expect(dp.every((p: {running: boolean}) => p.running)).toBe(true)
    // Not root: one line, exit 2, nothing touched.
    for (const args of [['demo', 'traffic', '--from', 'kind2/default/productpage-v1', '--to', 'reviews:9080'], ['demo', 'fail', 'kind2/default/reviews'], ['demo', 'up', '--dataplane']]) {
      const out = execFileSync('sh', ['-c', `setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp NO_COLOR=1 KUBECTL_SMH_DEMO_DIR=/tmp/smh-nobody '${process.execPath}' '${RUN_JS}' ${args.join(' ')} 2>&1; echo "exit $?"`], {encoding: 'utf8'})
      expect(out.trim().split('\n').filter((l) => !/EACCES|trace-warnings/.test(l))).toEqual([expect.stringMatching(/needs root .*run it with sudo$/), 'exit 2'])
    }
  })

  it("issues SPIFFE workload certificates from the cluster's own CA, and from cacerts' intermediate once a virtual mesh writes it", async () => {
    const r = pod('kind2', 'reviews-v1')
    const text = (file: string) => execFileSync('openssl', ['x509', '-noout', '-text', '-in', file], {encoding: 'utf8'})
    expect(text(join(r.certDir, 'cert-chain.pem'))).toContain('URI:spiffe://kind2/ns/default/sa/bookinfo-reviews')
    expect(statSync(join(r.certDir, 'key.pem')).mode & 0o777).toBe(0o600)
    expect(state.cas.kind2.source).toBe('self-signed')
    const verify = (root: string) => execFileSync('openssl', ['verify', '-CAfile', root, '-untrusted', join(r.certDir, 'cert-chain.pem'), join(r.certDir, 'cert-chain.pem')], {encoding: 'utf8'})
    expect(verify(join(r.certDir, 'root-cert.pem'))).toContain(': OK')

    // A virtual mesh's intermediate appears in kind2: the next data-plane command renews kind2's certificates under it.
    const core = forContext(loadKubeconfig({kubeconfig}), 'kind2').makeApiClient(CoreV1Api)
    const root = await generateRoot({algorithm: 'ecdsa'})
    const cacerts = await issueIntermediate(root, {trustDomain: 'kind2', istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster: 'kind2'})
    const data = Object.fromEntries(Object.entries(cacerts).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
    await core.createNamespacedSecret({namespace: 'istio-system', body: {metadata: {name: 'cacerts'}, data}})
    try {
      await demoTraffic({demoDir, from: 'kind2/default/productpage-v1', to: 'reviews:9080', requests: 1})
      const now = readDataPlaneState(dataPlaneDir(demoDir))!
      expect(now.cas.kind2.source).toBe('cacerts')
      expect(now.cas.kind3.source).toBe('self-signed')
      expect(readFileSync(join(r.certDir, 'root-cert.pem'), 'utf8').trim()).toBe(root.certPem.trim())
      expect(verify(join(r.certDir, 'root-cert.pem'))).toContain(': OK')
      expect(text(join(r.certDir, 'cert-chain.pem'))).toContain('L = kind2') // the intermediate signed it
    } finally {
      await core.deleteNamespacedSecret({name: 'cacerts', namespace: 'istio-system'})
    }
  })

  it('demo down (the built CLI) leaves nothing: no namespace, link, rule, process or private key of ours', async () => {
    const pids = state.pods.flatMap((p) => [p.proxy!.pid, p.process?.pid]).filter((x): x is number => x !== undefined)
    const down = await cli(['demo', 'down', '-o', 'json'])
    expect(down.code, down.stderr).toBe(0)
    expect(JSON.parse(down.stdout).dataplane.namespaces.length).toBe(state.pods.length)
    expect(down.stderr).toContain(`data plane removed: ${state.pods.length} network namespaces`)
    expect(execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})).not.toMatch(/smh-/)
    expect(execFileSync('ip', ['-o', 'link'], {encoding: 'utf8'})).not.toMatch(/\bsmh/)
    expect(ourLinks()).toEqual([])
    expect(hostNat()).toBe(hostNatBefore)
    expect(pids.filter(isAlive)).toEqual([])
    expect(existsSync(dataPlaneDir(demoDir))).toBe(false)
    for (const p of state.pods) expect(routeOf(p.addresses[0]).device).not.toBe(p.hostLink)
  })
})
