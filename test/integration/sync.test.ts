/**
 * The live path end to end on its own three real clusters (kind1 management, kind2 and kind3 seeded as the blog
 * post has them): install, register, `kubectl apply` of the seed's YAML, sync, and what sync must survive. The
 * tests run in order and build on each other, as a user's session would.
 */
import {execFileSync, spawn} from 'node:child_process'
import {join} from 'node:path'

import {ApiException, type KubernetesObject} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {listAll} from '../../src/kube/list.js'
import {MANAGED_KINDS, MANAGED_SELECTOR} from '../../src/kube/managed.js'
import {readRegisteredClusters} from '../../src/kube/registry.js'
import {type CliResult, RUN_JS, runCli} from '../support/cli.js'
import {GOLDEN_DIR, goldenCases, runCase} from '../support/golden.js'
import {type AuditMarks, type SeededClusters, startSeededClusters} from '../support/clusters.js'

const SEED = join(GOLDEN_DIR, 'seed-failover')
let env: SeededClusters
let kubeconfig: string
const smh = (args: string[], input?: string): Promise<CliResult> => runCli(args, {env: {KUBECONFIG: kubeconfig}, input})
const kubectl = (args: string[], input?: string) => execFileSync(binaryPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', input})
const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig}), context)

/** Every object kubectl-smh generated in a cluster: `Kind/ns/name` → {labels, annotations, spec, resourceVersion}. */
async function generated(cluster: string): Promise<Map<string, {spec: unknown; labels: unknown; annotations: unknown; resourceVersion: string}>> {
  const c = client(cluster)
  const out = new Map()
  for (const kind of MANAGED_KINDS) {
    for (const o of await listAll<KubernetesObject & {spec?: unknown}>(c, kind.apiVersion, kind.kind, {labelSelector: MANAGED_SELECTOR})) {
      out.set(`${kind.kind}/${o.metadata!.namespace}/${o.metadata!.name}`, {spec: o.spec, labels: o.metadata!.labels, annotations: o.metadata!.annotations, resourceVersion: o.metadata!.resourceVersion})
    }
  }
  return out
}

/** resourceVersions of everything a bad command could have touched: SMH resources, registrations, generated objects. */
async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const cluster of ['kind2', 'kind3']) for (const [key, o] of await generated(cluster)) out[`${cluster}:${key}`] = o.resourceVersion
  const mgmt = client('kind1')
  for (const [apiVersion, kind] of [['networking.smh.solo.io/v1alpha2', 'TrafficPolicy'], ['networking.smh.solo.io/v1alpha2', 'FailoverService'], ['networking.smh.solo.io/v1alpha2', 'VirtualMesh'], ['multicluster.solo.io/v1alpha1', 'KubernetesCluster'], ['v1', 'Secret']]) {
    for (const o of await listAll(mgmt, apiVersion, kind)) out[`kind1:${kind}/${o.metadata!.namespace}/${o.metadata!.name}`] = o.metadata!.resourceVersion!
  }
  return out
}

/** Our identities: the user's (the test kubeconfig's admin token) and every registered cluster's service account. */
/** Every write request our identities made in any cluster since the mark, one line each (dry runs excluded). */
const writesSince = (mark: AuditMarks): Promise<string[]> => env.ourWritesSince(mark)

const expectedSeed = async () => {
  const seedCase = goldenCases().find((c) => c.name === 'seed-failover')!
  return (await runCase(seedCase)).result!
}

beforeAll(async () => {
  env = await startSeededClusters({audit: true})
  kubeconfig = env.kubeconfig
})
afterAll(async () => {
  await env?.stop()
})

describe('the seed walkthrough on live clusters', () => {
  it('installs the CRDs and the namespace, and a second install changes nothing', async () => {
    const first = await smh(['install', '-o', 'json'])
    expect(first.stderr).not.toContain('Error')
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout).objects.map((o: {action: string}) => o.action)).toEqual(Array(6).fill('created'))
    const second = await smh(['install', '-o', 'json'])
    expect(JSON.parse(second.stdout).objects.map((o: {action: string}) => o.action)).toEqual(Array(6).fill('unchanged'))
  })

  it('registers kind2 and kind3: a least-privilege account there, its token and a KubernetesCluster in kind1', async () => {
    for (const cluster of ['kind2', 'kind3']) {
      const result = await smh(['register', 'cluster', cluster, '--remote-context', cluster])
      expect(result.stderr).not.toContain('Error')
      expect(result.code).toBe(0)
    }
    const registry = await readRegisteredClusters(client('kind1'))
    expect(registry.clusters.map((c) => c.name)).toEqual(['kind2', 'kind3'])
    expect(registry.unusable).toEqual([])
    // The stored credentials are the service account's, not the admin's.
    const review = await registry.clusters[0].client.objects.create({apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}} as never) as {status: {userInfo: {username: string}}}
    expect(review.status.userInfo.username).toBe('system:serviceaccount:service-mesh-hub:kind2')
  })

  it('re-registering refreshes the token and changes nothing else', async () => {
    const before = kubectl(['--context', 'kind2', 'get', 'clusterrole,clusterrolebinding,role,rolebinding,serviceaccount', '-A', '-l', 'smh.solo.io/registration=kind2', '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}'])
    const secretBefore = JSON.parse(kubectl(['--context', 'kind1', 'get', 'secret', '-n', 'service-mesh-hub', 'kind2', '-o', 'json']))
    const again = await smh(['register', 'cluster', 'kind2', '--remote-context', 'kind2'])
    expect(again.code).toBe(0)
    const after = kubectl(['--context', 'kind2', 'get', 'clusterrole,clusterrolebinding,role,rolebinding,serviceaccount', '-A', '-l', 'smh.solo.io/registration=kind2', '-o', 'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}'])
    expect(after).toBe(before)
    const secretAfter = JSON.parse(kubectl(['--context', 'kind1', 'get', 'secret', '-n', 'service-mesh-hub', 'kind2', '-o', 'json']))
    expect(secretAfter.data.kubeconfig).not.toBe(secretBefore.data.kubeconfig)
  })

  it('kubectl apply of the seed YAML, then sync: the same Istio objects as the offline golden case, statuses ACCEPTED', async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', join(SEED, 'input.yaml'), '-f', join(SEED, 'virtualmesh.yaml')])
    const result = await smh(['sync'])
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    const expected = await expectedSeed()
    for (const cluster of ['kind2', 'kind3']) {
      const live = await generated(cluster)
      const want = new Map(expected.clusters[cluster].map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, {spec: o.spec, labels: o.metadata.labels, annotations: o.metadata.annotations}]))
      expect([...live.keys()].sort()).toEqual([...want.keys()].sort())
      for (const [key, object] of want) expect({key, ...object}).toEqual({key, spec: live.get(key)!.spec, labels: live.get(key)!.labels, annotations: live.get(key)!.annotations})
    }
    const statuses = JSON.parse((await smh(['get', 'tp', '-o', 'json'])).stdout).items
    const fs = JSON.parse((await smh(['get', 'fs', 'reviews-failover', '-o', 'json'])).stdout)
    const vm = JSON.parse((await smh(['get', 'vm', '-o', 'json'])).stdout).items
    for (const resource of [...statuses, fs, ...vm]) {
      expect({name: resource.metadata.name, state: resource.status?.state}).toEqual({name: resource.metadata.name, state: 'ACCEPTED'})
      expect(resource.status.observedGeneration).toBe(resource.metadata.generation)
    }
  })

  it('a second sync makes no write request anywhere (the API servers\' audit logs)', async () => {
    const mark = env.markAudit()
    const result = await smh(['sync', '-o', 'json'])
    expect(result.code).toBe(0)
    const counts = JSON.parse(result.stdout).clusters.map((c: {counts: Record<string, number>}) => c.counts)
    expect(counts.every((c: Record<string, number>) => c.create + c.update + c.prune === 0 && c.unchanged > 0)).toBe(true)
    // Every write by anyone in any of the three clusters since the mark: none (reads only).
    expect(await writesSince(mark)).toEqual([])
  })

  it('sync --dry-run and --diff show a change and write nothing', async () => {
    // Another field manager edits a generated object: the next plan updates it back.
    kubectl(['--context', 'kind2', 'patch', 'destinationrule', '-n', 'default', 'reviews', '--type', 'merge', '-p', '{"spec":{"trafficPolicy":{"outlierDetection":{"interval":"30s"}}}}'])
    const mark = env.markAudit()
    const dry = await smh(['sync', '--dry-run', '--diff'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/kind2\s+update\s+DestinationRule\s+default\s+reviews/)
    expect(dry.stdout).toMatch(/^-\s+interval: 30s$/m)
    expect(dry.stdout).toMatch(/^\+\s+interval: 10s$/m)
    expect(await writesSince(mark)).toEqual([])
  })

  it('an object another field manager changed is a conflict with the fix, never overwritten; --force-conflicts takes it back', async () => {
    const result = await smh(['sync'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/kind2/)
    expect(result.stderr).toContain('--force-conflicts')
    const dr = JSON.parse(kubectl(['--context', 'kind2', 'get', 'destinationrule', '-n', 'default', 'reviews', '-o', 'json']))
    expect(dr.spec.trafficPolicy.outlierDetection.interval).toBe('30s')
    const forced = await smh(['sync', '--force-conflicts'])
    expect(forced.code).toBe(0)
    const back = JSON.parse(kubectl(['--context', 'kind2', 'get', 'destinationrule', '-n', 'default', 'reviews', '-o', 'json']))
    expect(back.spec.trafficPolicy.outlierDetection.interval).toBe('10s')
  })

  it('deleting one policy prunes its objects and leaves every other object untouched', async () => {
    const before = await generated('kind2')
    const result = await smh(['delete', 'tp', 'reviews-shift-failover'])
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    const after = await generated('kind2')
    const gone = [...before.keys()].filter((k) => !after.has(k))
    expect(gone).toEqual(['VirtualService/default/reviews'])
    for (const [key, o] of after) expect({key, rv: o.resourceVersion}).toEqual({key, rv: before.get(key)!.resourceVersion})
    kubectl(['--context', 'kind1', 'apply', '-f', join(SEED, 'input.yaml')])
    expect((await smh(['sync'])).code).toBe(0)
  })
})

describe("users' YAML and lookups", () => {
  it('apply -f takes proto spellings, says what it normalised, and stores camelCase', async () => {
    const yaml = `apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: details-timeout, namespace: service-mesh-hub}
spec:
  destination_selector:
  - kube_service_refs:
      services:
      - {name: details, namespace: default, cluster_name: kind2}
  request_timeout: 3s
`
    const result = await smh(['apply', '-f', '-'], yaml)
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/note: .*destination_selector → destinationSelector/)
    const stored = JSON.parse(kubectl(['--context', 'kind1', 'get', 'trafficpolicy', '-n', 'service-mesh-hub', 'details-timeout', '-o', 'json']))
    expect(stored.spec).toEqual({destinationSelector: [{kubeServiceRefs: {services: [{name: 'details', namespace: 'default', clusterName: 'kind2'}]}}], requestTimeout: '3s'})
    expect(stored.status.state).toBe('ACCEPTED')
    expect((await generated('kind2')).has('VirtualService/default/details')).toBe(true)
  })

  it('a policy whose selector matches nothing stays ACCEPTED and says so, on stderr and in its status', async () => {
    const yaml = `apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: matches-nothing, namespace: service-mesh-hub}
spec:
  destinationSelector:
  - kubeServiceMatcher: {labels: {app: nothing-has-this}}
  requestTimeout: 3s
`
    const result = await smh(['apply', '-f', '-'], yaml)
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/matches-nothing\s+ACCEPTED\s+warning: .*nothing-has-this/)
    const stored = JSON.parse((await smh(['get', 'tp', 'matches-nothing', '-o', 'json'])).stdout)
    expect(stored.status.state).toBe('ACCEPTED')
    expect(stored.status.warnings.join(' ')).toContain('nothing-has-this')
    for (const name of ['matches-nothing', 'details-timeout']) expect((await smh(['delete', 'tp', name])).code).toBe(0)
    expect((await generated('kind2')).has('VirtualService/default/details')).toBe(false)
  })

  it('get of a missing name: exit 2 with the nearest names', async () => {
    const result = await smh(['get', 'fs', 'reviews-failovr'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('FailoverService "reviews-failovr" not found: did you mean reviews-failover?')
    const unknownKind = await smh(['get', 'trafficpolicie'])
    expect(unknownKind.code).toBe(2)
    expect(unknownKind.stderr).toMatch(/unknown kind "trafficpolicie": use one of trafficpolicies \(tp\)/)
  })
})

describe('registered credentials: least privilege', () => {
  const sa = async (cluster: string) => (await readRegisteredClusters(client('kind1'))).clusters.find((c) => c.name === cluster)!.client
  const status = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof ApiException ? e.code : String(e)))

  it('can do what discovery and sync need', async () => {
    const c = await sa('kind3')
    for (const [apiVersion, kind] of [['v1', 'Pod'], ['v1', 'Service'], ['apps/v1', 'Deployment'], ['apps/v1', 'ReplicaSet'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['networking.istio.io/v1', 'Gateway']]) {
      expect({kind, code: await status(c.objects.list(apiVersion, kind))}).toEqual({kind, code: 200})
    }
    expect(await status(c.objects.read({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: 'istio-system'}}))).toBe(200)
    const probe = {apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: {name: 'rbac-probe', namespace: 'default'}, spec: {host: 'x.default.svc.cluster.local'}}
    expect(await status(c.apply(probe as never))).toBe(200)
    expect(await status(c.objects.delete(probe as never))).toBe(200)
    const cacerts = {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cacerts', namespace: 'istio-system'}, data: {'probe': ''}}
    expect(await status(c.apply(cacerts as never))).toBe(200)
    expect(await status(c.objects.read(cacerts as never))).toBe(200)
    expect(await status(c.objects.delete(cacerts as never))).toBe(200)
  })

  it('gets 403 reading any Secret but cacerts, and writing what it does not need', async () => {
    const c = await sa('kind3')
    expect(await status(c.objects.list('v1', 'Secret', 'istio-system'))).toBe(403)
    expect(await status(c.objects.list('v1', 'Secret'))).toBe(403)
    expect(await status(c.objects.read({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'istio-ca-secret', namespace: 'istio-system'}}))).toBe(403)
    expect(await status(c.objects.list('v1', 'ConfigMap'))).toBe(403)
    expect(await status(c.apply({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x', namespace: 'default'}} as never))).toBe(403)
    expect(await status(c.apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'other', namespace: 'istio-system'}} as never))).toBe(403)
    // Creating is granted in the Istio namespace (RBAC cannot name what is created); the registration's admission
    // policy refuses every Secret but cacerts.
    const created = await c.objects.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'other', namespace: 'istio-system'}} as never).then(() => 'stored', (e: unknown) => c.describe(e))
    expect(created).toContain("ValidatingAdmissionPolicy 'kubectl-smh-kind3'")
    expect(created).toContain('may create no Secret but cacerts')
    expect(await status(c.objects.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'other', namespace: 'default'}} as never))).toBe(403)
    expect(await status(c.apply({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'reviews-v3', namespace: 'default'}, spec: {}} as never))).toBe(403)
    expect(await status(c.objects.delete({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'x', namespace: 'default'}} as never))).toBe(403)
    expect(await status(c.apply({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name: 'escalate'}, rules: []} as never))).toBe(403)
  })

  it('a revoked token (its ServiceAccount deleted and recreated) gives one line with the fix; re-registering repairs it', async () => {
    kubectl(['--context', 'kind3', 'delete', 'serviceaccount', '-n', 'service-mesh-hub', 'kind3'])
    kubectl(['--context', 'kind3', 'create', 'serviceaccount', '-n', 'service-mesh-hub', 'kind3'])
    // The API server checks a token's account through its informer cache: wait until it refuses the old token.
    const stored = await sa('kind3')
    for (let i = 0; i < 300 && (await status(stored.objects.list('v1', 'Service', 'default'))) !== 401; i++) await new Promise((r) => setTimeout(r, 100))
    const result = await smh(['sync'])
    expect(result.code).toBe(1)
    const lines = result.stderr.split('\n').filter((l) => l.includes('kind3') && l.includes('401'))
    expect(lines.length).toBeGreaterThan(0)
    expect(lines[0]).toContain('kubectl smh register cluster kind3 --remote-context kind3')
    expect(JSON.parse((await smh(['sync', '-o', 'json', '--dry-run'])).stdout).clusters.find((c: {name: string}) => c.name === 'kind2').result).toBe('ok')
    expect((await smh(['register', 'cluster', 'kind3', '--remote-context', 'kind3'])).code).toBe(0)
    expect((await smh(['sync'])).code).toBe(0)
  })
})

describe('faults', () => {
  /** A change that touches kind2 only: a request timeout for kind2's ratings. */
  const ratingsTimeout = (timeout: string) => `apiVersion: networking.smh.solo.io/v1alpha2
kind: TrafficPolicy
metadata: {name: ratings-timeout, namespace: service-mesh-hub}
spec:
  destinationSelector:
  - kubeServiceRefs: {services: [{name: ratings, namespace: default, clusterName: kind2}]}
  requestTimeout: ${timeout}
`
  const ratingsRoute = async () => ((await generated('kind2')).get('VirtualService/default/ratings')?.spec as {http?: {timeout?: string}[]} | undefined)?.http?.[0]?.timeout

  it("kind3's API server down: kind2 converges, exit 1 names kind3, kind2's objects that depend on kind3 are held; back up, sync converges", async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', '-'], ratingsTimeout('5s'))
    const kind2Before = await generated('kind2')
    await env.stopServer('kind3', {signal: 'SIGKILL'}) // a crash, not a shutdown
    let result: CliResult
    try {
      result = await smh(['sync', '--request-timeout', '10s'])
    } finally {
      await env.startServer('kind3')
    }
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/Error: sync failed in cluster kind3/)
    expect(result.stderr).toMatch(/cluster "kind3": connection refused/)
    expect(await ratingsRoute()).toBe('5s')
    // Federation to kind3 and the failover through it were left exactly as they were.
    const kind2After = await generated('kind2')
    for (const [key, o] of kind2Before) expect({key, rv: kind2After.get(key)?.resourceVersion}).toEqual({key, rv: o.resourceVersion})
    const fs = JSON.parse((await smh(['get', 'fs', 'reviews-failover', '-o', 'json'])).stdout)
    expect(fs.status.state).toBe('FAILED')
    expect(fs.status.errors.join(' ')).toContain('kind3')

    const again = await smh(['sync'])
    expect(again.stderr).not.toContain('Error')
    expect(again.code).toBe(0)
    expect(JSON.parse((await smh(['get', 'fs', 'reviews-failover', '-o', 'json'])).stdout).status.state).toBe('ACCEPTED')
  })

  it('two syncs at once end in the same state as one', async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', '-'], ratingsTimeout('7s'))
    const [a, b] = await Promise.all([smh(['sync']), smh(['sync'])])
    expect([a.code, b.code]).toEqual([0, 0])
    expect(await ratingsRoute()).toBe('7s')
    const mark = env.markAudit()
    const third = JSON.parse((await smh(['sync', '-o', 'json'])).stdout)
    expect(third.clusters.map((c: {counts: {unchanged: number; create: number; update: number; prune: number}}) => c.counts.create + c.counts.update + c.counts.prune)).toEqual([0, 0])
    expect(await writesSince(mark)).toEqual([])
  })

  it('Ctrl-C mid-sync exits 130, and the next sync converges', async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', '-'], ratingsTimeout('9s'))
    const child = spawn(process.execPath, [RUN_JS, 'sync'], {env: {...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    const code = await new Promise<number | null>((resolve) => {
      let sent = false
      child.stderr.on('data', (d: Buffer) => {
        if (!sent && d.toString().includes('discovering')) {
          sent = true
          child.kill('SIGINT')
        }
      })
      child.on('close', (c) => resolve(c))
    })
    expect(code).toBe(130)
    expect((await smh(['sync'])).code).toBe(0)
    expect(await ratingsRoute()).toBe('9s')
  })
})

describe('bad input changes nothing anywhere', () => {
  const cases: [string, string[], string | undefined, RegExp][] = [
    ['invalid YAML', ['apply', '-f', '-'], 'kind: TrafficPolicy\nspec: [\n', /YAML syntax error/],
    ['an unknown kind', ['apply', '-f', '-'], 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolice\nmetadata: {name: x}\nspec: {}\n', /kind TrafficPolice is not an SMH resource/],
    ['a dangling reference', ['apply', '-f', '-'], 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: dangling}\nspec:\n  destinationSelector:\n  - kubeServiceRefs: {services: [{name: nope, namespace: default, clusterName: kind2}]}\n  requestTimeout: 1s\n', /service nope\.default in cluster kind2 not found/],
    ['an unregistered cluster named in a policy', ['apply', '-f', '-'], 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: elsewhere}\nspec:\n  destinationSelector:\n  - kubeServiceRefs: {services: [{name: reviews, namespace: default, clusterName: kind9}]}\n  requestTimeout: 1s\n', /no cluster kind9/],
    ['an unknown cluster in --cluster', ['sync', '--cluster', 'kind9'], undefined, /--cluster kind9: no such registered cluster/],
    // The first resource is valid: the second's missing namespace must keep it from being written too.
    ['a missing namespace beside a valid resource', ['apply', '-f', '-'], 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: fine, namespace: service-mesh-hub}\nspec:\n  destinationSelector:\n  - kubeServiceRefs: {services: [{name: productpage, namespace: default, clusterName: kind2}]}\n  requestTimeout: 1s\n---\napiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: lost, namespace: nowhere}\nspec:\n  destinationSelector:\n  - kubeServiceRefs: {services: [{name: productpage, namespace: default, clusterName: kind2}]}\n  requestTimeout: 1s\n', /TrafficPolicy\/nowhere\/lost: namespace nowhere does not exist in the management cluster "kind1"/],
  ]
  it.each(cases)('%s: exit 2, one line, zero writes', async (_name, args, input, message) => {
    const before = await versions()
    const mark = env.markAudit()
    const result = await smh(args, input)
    expect(result.code).toBe(2)
    const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('Error:'))
    expect(errorLines.length).toBe(1)
    expect(result.stderr).toMatch(message)
    expect(await versions()).toEqual(before)
    expect(await writesSince(mark)).toEqual([])
  })
})

describe('deregister and uninstall', () => {
  it('deregister removes what was generated there, then the RBAC, the account, the secret and the KubernetesCluster', async () => {
    expect((await generated('kind3')).size).toBeGreaterThan(0)
    const result = await smh(['deregister', 'cluster', 'kind3', '-o', 'json'])
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    const removed: string[] = JSON.parse(result.stdout).removed
    expect(removed).toContain('kind3: ServiceAccount/service-mesh-hub/kind3')
    expect(removed).toContain('kind3: ClusterRole//kubectl-smh-kind3')
    expect(removed).toContain('kind3: ValidatingAdmissionPolicy//kubectl-smh-kind3')
    expect(removed).toContain('management: KubernetesCluster/service-mesh-hub/kind3')
    expect(removed.some((r) => r.startsWith('kind3: DestinationRule/'))).toBe(true)
    expect((await generated('kind3')).size).toBe(0)
    expect(kubectl(['--context', 'kind3', 'get', 'clusterrole,clusterrolebinding,role,rolebinding', '-A', '-l', 'smh.solo.io/registration=kind3', '-o', 'name'])).toBe('')
    // Deleted (the local clusters run no namespace controller, so it may stay Terminating instead of vanishing).
    const namespace = kubectl(['--context', 'kind3', 'get', 'namespace', 'service-mesh-hub', '--ignore-not-found', '-o', 'json']).trim()
    expect(namespace === '' || JSON.parse(namespace).metadata.deletionTimestamp !== undefined).toBe(true)
    expect(kubectl(['--context', 'kind1', 'get', 'secret,kubernetesclusters', '-n', 'service-mesh-hub', '-o', 'name'])).not.toContain('kind3')
    // kind2 is untouched until the next sync, which then drops what pointed at kind3.
    const sync = await smh(['sync', '-o', 'json'])
    expect(sync.code).toBe(0)
    expect(JSON.parse(sync.stdout).clusters.map((c: {name: string}) => c.name)).toEqual(['kind2'])
  })

  it('uninstall refuses while SMH resources exist, and --force removes the CRDs and the namespace', async () => {
    const refused = await smh(['uninstall'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/still holds SMH resources .*--force/)
    expect(kubectl(['--context', 'kind1', 'get', 'crd', '-o', 'name'])).toContain('trafficpolicies.networking.smh.solo.io')
    const forced = await smh(['uninstall', '--force'])
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('removed CustomResourceDefinition//trafficpolicies.networking.smh.solo.io')
    expect(kubectl(['--context', 'kind1', 'get', 'crd', '-o', 'name'])).not.toContain('smh.solo.io')
    const sync = await smh(['sync'])
    expect(sync.code).toBe(2)
    expect(sync.stderr).toContain('kubectl smh install')
  })
})
