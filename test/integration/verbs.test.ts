/**
 * The verbs of issue 8 on their own three real clusters, through the built CLI: the seed's walkthrough with verbs only
 * (no hand-written YAML) gives the golden seed case's Istio objects; bad input exits 2 with one line naming the
 * nearest choice and writes nothing anywhere; --dry-run prints the objects and writes nothing; -o json parses.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {KubernetesObject} from '@kubernetes/client-node'

import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {listAll} from '../../src/kube/list.js'
import {MANAGED_KINDS, MANAGED_SELECTOR} from '../../src/kube/managed.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type AuditMarks, type SeededClusters, startRegisteredClusters} from '../support/clusters.js'
import {opensslVerify} from '../support/certs.js'
import {goldenCases, runCase} from '../support/golden.js'

let env: SeededClusters
const smh = (args: string[]): Promise<CliResult> => runCli(args, {env: {KUBECONFIG: env.kubeconfig}})
const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig: env.kubeconfig}), context)

async function generated(cluster: string): Promise<Map<string, {spec: unknown; labels: unknown; annotations: unknown}>> {
  const out = new Map()
  for (const kind of MANAGED_KINDS) {
    for (const o of await listAll<KubernetesObject & {spec?: unknown}>(client(cluster), kind.apiVersion, kind.kind, {labelSelector: MANAGED_SELECTOR})) {
      out.set(`${kind.kind}/${o.metadata!.namespace}/${o.metadata!.name}`, {spec: o.spec, labels: o.metadata!.labels, annotations: o.metadata!.annotations})
    }
  }
  return out
}

/** Our identities: the user's (the test kubeconfig's admin token) and every registered cluster's service account. */
/** Every write request (dry runs left out) we made in any of the three clusters since the mark. */
const writesSince = (mark: AuditMarks): Promise<string[]> => env.ourWritesSince(mark, {skipReviews: true})

/** Exit 2, nothing on stdout, one line on stderr containing each part. */
function expectUsage(result: CliResult, parts: string[]): void {
  expect({code: result.code, stdout: result.stdout}).toEqual({code: 2, stdout: ''})
  const lines = result.stderr.trimEnd().split('\n').filter((l) => !/^kind\d: /.test(l)) // progress lines of discovery
  expect(lines).toHaveLength(1)
  for (const part of parts) expect(lines[0]).toContain(part)
}

const ok = (result: CliResult) => {
  expect(result.stderr).not.toMatch(/^Error:/m)
  expect(result.code).toBe(0)
}

beforeAll(async () => {
  env = await startRegisteredClusters({audit: true})
})
afterAll(async () => {
  await env?.stop()
})

const WALKTHROUGH = {
  vm: ['create', 'virtualmesh', 'virtual-mesh', '--mesh', 'istiod-istio-system-kind2', '--mesh', 'istiod-istio-system-kind3', '--auto-restart-pods'],
  outlier: ['set', 'outlier', 'kind2/default/reviews', 'kind3/default/reviews', '--name', 'mgmt-reviews-outlier', '--consecutive-errors', '1', '--interval', '10s', '--base-ejection-time', '2m'],
  failover: ['add', 'failoverservice', 'reviews-failover', '--hostname', 'reviews-failover.default.global', '--port', '9080/http', '--backing', 'kind2/default/reviews', '--backing', 'kind3/default/reviews'],
  shift: ['shift', 'traffic', 'kind2/default/reviews', '--to-failover', 'reviews-failover', '-n', 'default'],
}

describe('bad input before anything is authored: exit 2, one line with the nearest choice, no write anywhere', () => {
  it.each([
    ['missing flags without a terminal', ['add', 'failoverservice', 'reviews-failover'], ['missing --hostname, --port, --backing', 'terminal']],
    ['unknown mesh', ['create', 'virtualmesh', 'vm', '--mesh', 'istiod-istio-system-kind4'], ['--mesh istiod-istio-system-kind4', 'did you mean istiod-istio-system-kind2?']],
    ['root CA secret that does not exist', ['create', 'virtualmesh', 'vm', '--mesh', 'istiod-istio-system-kind2', '--root-ca-secret', 'service-mesh-hub/no-root'], ['--root-ca-secret service-mesh-hub/no-root', 'no such Secret', 'kubectl create secret generic no-root']],
    ['unknown cluster', ['set', 'outlier', 'kind5/default/reviews'], ['SERVICE kind5/default/reviews', 'no registered cluster "kind5"', 'did you mean kind2?']],
    ['bad duration', ['set', 'outlier', 'kind2/default/reviews', '--interval', '10'], ['--interval 10', 'did you mean 10s?']],
    ['weights not 100', ['shift', 'traffic', 'kind2/default/reviews', '--to', 'kind2/default/reviews=50', '--to', 'kind3/default/reviews=60'], ['weights add up to 110', 'did you mean kind3/default/reviews=50?']],
    ['unknown subset', ['shift', 'traffic', 'kind2/default/reviews', '--to', 'kind2/default/reviews:version=v3'], ['--to kind2/default/reviews:version=v3', 'did you mean kind2/default/reviews:version=v']],
    ['unknown service account', ['allow', 'access', '--from', 'kind2/default/bookinfo-productpage2', '--to', 'kind3/default/reviews'], ['--from kind2/default/bookinfo-productpage2', 'did you mean kind2/default/bookinfo-productpage?']],
    ['unknown service (route)', ['set', 'route', 'ratings-default-kind9', '--timeout', '2s'], ['SERVICE ratings-default-kind9', 'did you mean ratings-default-kind2?']],
  ])('%s', async (_, args, parts) => {
    const mark = env.markAudit()
    expectUsage(await smh(args), parts)
    expect(await writesSince(mark)).toEqual([])
  })
})

describe('--dry-run writes nothing and shows what would be generated', () => {
  it('create virtualmesh --dry-run: the VirtualMesh and its objects per cluster, as a table and as JSON, with the estimate', async () => {
    const mark = env.markAudit()
    const table = await smh([...WALKTHROUGH.vm, '--federation', 'all', '--dry-run'])
    ok(table)
    expect(table.stdout).toContain('VirtualMesh/service-mesh-hub/virtual-mesh would be created (dry run)')
    expect(table.stdout).toMatch(/kind2\s+ServiceEntry\s+istio-system\s+reviews\.default\.svc\.kind3\.global/)
    expect(table.stdout).toMatch(/federation all \(permissive\): estimate per cluster[\s\S]*kind2\s+\d+\s+\d+\s+4\s/)
    // The default, on-demand: nothing routes across clusters yet, so nothing federated.
    const onDemand = JSON.parse((await smh([...WALKTHROUGH.vm, '--dry-run', '-o', 'json'])).stdout)
    expect(onDemand.resources[0].spec.federation).toEqual({onDemand: {}})
    expect(onDemand.estimate.clusters.map((c: {federatedServices: number}) => c.federatedServices)).toEqual([0, 0])
    const json = await smh([...WALKTHROUGH.vm, '--federation', 'all', '--dry-run', '-o', 'json'])
    ok(json)
    const data = JSON.parse(json.stdout)
    expect(data.dryRun).toBe(true)
    expect(data.resources.map((r: {kind: string; metadata: {name: string}}) => `${r.kind}/${r.metadata.name}`)).toEqual(['VirtualMesh/virtual-mesh'])
    expect(data.estimate).toMatchObject({mode: 'permissive', meshClusters: ['kind2', 'kind3']})
    expect(data.estimate.clusters.map((c: {federatedServices: number}) => c.federatedServices)).toEqual([4, 4])
    expect(data.objects.kind2.length).toBeGreaterThan(0)
    expect(data.objects.kind3.length).toBeGreaterThan(0)
    for (const o of [...data.objects.kind2, ...data.objects.kind3]) expect(o.metadata.annotations['smh.solo.io/sources']).toContain('VirtualMesh/service-mesh-hub/virtual-mesh')
    expect(await writesSince(mark)).toEqual([])
    expect((await generated('kind2')).size).toBe(0)
  })
})

describe('the seed walkthrough with the verbs only', () => {
  it('create virtualmesh, set outlier, add failoverservice, shift traffic: each exits 0 and syncs', async () => {
    ok(await smh([...WALKTHROUGH.vm, '--federation', 'all'])) // the seed's VirtualMesh is permissive
    const outlier = await smh(WALKTHROUGH.outlier)
    ok(outlier)
    expect(outlier.stdout).toContain('TrafficPolicy/service-mesh-hub/mgmt-reviews-outlier created')
    expect(outlier.stdout).toMatch(/CLUSTER\s+RESULT/)
    const failover = await smh(WALKTHROUGH.failover)
    ok(failover)
    // The mesh it chose is said; no outlier policy was needed (set outlier gave both).
    expect(failover.stderr).toMatch(/note: --mesh not given: .*istiod-istio-system-kind2/)
    expect(failover.stdout).not.toContain('reviews-failover-outlier')
    const shift = await smh(WALKTHROUGH.shift)
    ok(shift)
    expect(shift.stdout).toContain('TrafficPolicy/default/reviews-shift-failover created')
  })

  it('the Istio objects in kind2 and kind3 equal the golden seed case\'s', async () => {
    const expected = (await runCase(goldenCases().find((c) => c.name === 'seed-failover')!)).result!
    for (const cluster of ['kind2', 'kind3']) {
      const live = await generated(cluster)
      const want = new Map(expected.clusters[cluster].map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, {spec: o.spec, labels: o.metadata.labels, annotations: o.metadata.annotations}]))
      expect([...live.keys()].sort()).toEqual([...want.keys()].sort())
      for (const [key, object] of want) expect({key, ...live.get(key)}).toEqual({key, ...object})
    }
    const policies = JSON.parse((await smh(['get', 'tp', '-o', 'json'])).stdout).items
    expect(policies.map((p: {metadata: {name: string}; status: {state: string}}) => `${p.metadata.name}=${p.status.state}`).sort()).toEqual(['mgmt-reviews-outlier=ACCEPTED', 'reviews-shift-failover=ACCEPTED'])
  })

  it('create virtualmesh gave each mesh its own intermediate under one root, whose key stays in the management cluster', async () => {
    const secrets = async (context: string) => (await listAll(client(context), 'v1', 'Secret')) as unknown as {metadata: {name: string; namespace: string}; data?: Record<string, string>}[]
    const decoded = (secret: {data?: Record<string, string>}) => Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
    const root = decoded((await secrets('kind1')).find((s) => s.metadata.namespace === 'service-mesh-hub' && s.metadata.name === 'virtual-mesh.service-mesh-hub')!)
    expect(Object.keys(root).sort()).toEqual(['key.pem', 'root-cert.pem'])
    const cacerts: Record<string, Record<string, string>> = {}
    for (const cluster of ['kind2', 'kind3']) {
      const all = await secrets(cluster)
      cacerts[cluster] = decoded(all.find((s) => s.metadata.namespace === 'istio-system' && s.metadata.name === 'cacerts')!)
      expect(opensslVerify(root['root-cert.pem'], cacerts[cluster]), cluster).toMatch(/: OK$/)
      expect(cacerts[cluster]['root-cert.pem'].trim()).toBe(root['root-cert.pem'].trim())
      // The root's private key is in no Secret of a workload cluster.
      for (const secret of all) for (const value of Object.values(decoded(secret))) expect(value).not.toContain(root['key.pem'].trim())
    }
    expect(cacerts.kind2['ca-cert.pem']).not.toBe(cacerts.kind3['ca-cert.pem'])
    expect(cacerts.kind2['ca-key.pem']).not.toBe(cacerts.kind3['ca-key.pem'])
  })

  it('re-running a verb with the same name updates it in place (-o json parses)', async () => {
    const same = await smh([...WALKTHROUGH.outlier, '-o', 'json'])
    ok(same)
    const data = JSON.parse(same.stdout)
    expect(data.applied).toEqual([{resource: 'TrafficPolicy/service-mesh-hub/mgmt-reviews-outlier', action: 'unchanged'}])
    expect(data.sync.clusters.every((c: {counts: {create: number; update: number; prune: number}}) => c.counts.create + c.counts.update + c.counts.prune === 0)).toBe(true)
    const changed = await smh([...WALKTHROUGH.outlier.filter((a, i, all) => all[i - 1] !== '--consecutive-errors' && a !== '--consecutive-errors'), '--consecutive-errors', '2', '-o', 'json'])
    ok(changed)
    expect(JSON.parse(changed.stdout).applied[0].action).toBe('configured')
    const dr = (await generated('kind2')).get('DestinationRule/default/reviews') as {spec: {trafficPolicy: {outlierDetection: {consecutive5xxErrors?: number; consecutiveErrors?: number}}}}
    expect(JSON.stringify(dr.spec.trafficPolicy.outlierDetection)).toContain(':2')
    ok(await smh(WALKTHROUGH.outlier))
  })

  it('a change of federation mode is a plan like any other: sync --dry-run shows what on-demand prunes, sync prunes it', async () => {
    ok(await smh([...WALKTHROUGH.vm, '--federation', 'on-demand', '--no-sync']))
    const mark = env.markAudit()
    const plan = await smh(['sync', '--dry-run', '-o', 'json'])
    ok(plan)
    expect(await writesSince(mark)).toEqual([])
    const changes = (JSON.parse(plan.stdout) as {clusters: {name: string; changes: {action: string; object: string}[]}[]}).clusters
      .flatMap((c) => c.changes.map((ch) => `${c.name} ${ch.action} ${ch.object}`))
    // kind2 routes only to kind3's reviews (the failover service): the other federated services of kind3 go.
    expect(changes).toContain('kind2 prune ServiceEntry/istio-system/ratings.default.svc.kind3.global')
    expect(changes.filter((c) => c.includes('reviews.default.svc.kind3.global'))).toEqual([])
    expect(changes.every((c) => / prune /.test(c) || / update /.test(c))).toBe(true)
    ok(await smh(['sync']))
    const after = await generated('kind2')
    expect(after.has('ServiceEntry/istio-system/ratings.default.svc.kind3.global')).toBe(false)
    expect(after.has('ServiceEntry/istio-system/reviews.default.svc.kind3.global')).toBe(true)
    ok(await smh([...WALKTHROUGH.vm, '--federation', 'all']))
  })
})

describe('bad input against what is stored: exit 2, one line, no write anywhere', () => {
  it.each([
    ['unknown failover service', ['shift', 'traffic', 'kind2/default/reviews', '--to-failover', 'reviews-failovr'], ['--to-failover reviews-failovr', 'did you mean reviews-failover?']],
    ['duplicate backing service', ['add', 'failoverservice', 'fs2', '--hostname', 'fs2.default.global', '--port', '9080', '--backing', 'kind2/default/reviews', '--backing', 'reviews-default-kind2'], ['--backing reviews-default-kind2', 'the same service as --backing kind2/default/reviews']],
    ['port the service lacks', ['add', 'failoverservice', 'fs2', '--hostname', 'fs2.default.global', '--port', '9090/http', '--backing', 'kind2/default/reviews'], ['--port 9090/http', 'did you mean 9080/http?']],
    ['malformed hostname', ['add', 'failoverservice', 'fs2', '--hostname', 'fs2..default.global', '--port', '9080', '--backing', 'kind2/default/reviews'], ['--hostname fs2..default.global', 'not a DNS name', 'did you mean fs2.default.global?']],
    ['mesh in another VirtualMesh', ['create', 'virtualmesh', 'vm2', '--mesh', 'istiod-istio-system-kind3'], ['--mesh istiod-istio-system-kind3', 'already in VirtualMesh service-mesh-hub/virtual-mesh']],
    ['--no-outlier and a service without it', ['add', 'failoverservice', 'ratings-failover', '--hostname', 'ratings-failover.default.global', '--port', '9080', '--backing', 'kind2/default/ratings', '--no-outlier'], ['kind2/default/ratings has no outlier detection', 'kubectl smh set outlier kind2/default/ratings']],
  ])('%s', async (_, args, parts) => {
    const mark = env.markAudit()
    expectUsage(await smh(args), parts)
    expect(await writesSince(mark)).toEqual([])
  })

  it('a weighted shift --dry-run prints the VirtualService it would change and writes nothing', async () => {
    const mark = env.markAudit()
    const dry = await smh(['shift', 'traffic', 'kind2/default/ratings', '--to', 'kind2/default/ratings=80', '--to', 'kind3/default/ratings=20', '--dry-run', '-o', 'yaml'])
    ok(dry)
    expect(dry.stdout).toContain('name: ratings-shift')
    expect(dry.stdout).toMatch(/kind: VirtualService/)
    expect(dry.stdout).toContain('ratings.default.svc.kind3.global')
    expect(await writesSince(mark)).toEqual([])
  })

  it('add failoverservice adds outlier detection where missing and says so; allow access writes an AccessPolicy', async () => {
    const fs = await smh(['add', 'failoverservice', 'ratings-failover', '--hostname', 'ratings-failover.default.global', '--port', '9080', '--backing', 'kind2/default/ratings', '--backing', 'kind3/default/ratings', '-o', 'json'])
    ok(fs)
    expect(fs.stderr).toContain('added TrafficPolicy service-mesh-hub/ratings-failover-outlier')
    expect(JSON.parse(fs.stdout).applied.map((a: {resource: string}) => a.resource)).toEqual(['TrafficPolicy/service-mesh-hub/ratings-failover-outlier', 'FailoverService/service-mesh-hub/ratings-failover'])
    const access = await smh(['allow', 'access', '--from', 'kind2/default/bookinfo-productpage', '--to', 'kind3/default/reviews'])
    ok(access)
    expect((await generated('kind3')).has('AuthorizationPolicy/default/reviews')).toBe(true)
  })
})
