/**
 * The observing commands' models (describe, check, simulate) on the seed scenario's golden input and the kind2/kind3
 * fixture snapshots: pure Observation in, data out.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import type {SmhResource} from '../../../src/api/types.js'
import type {KubeObject} from '../../../src/discovery/types.js'
import {UsageError} from '../../../src/errors.js'
import {runChecks} from '../../../src/observe/check.js'
import {type FailoverServiceDescription, type ServiceDescription, type VirtualMeshDescription, describe as describeIt, describeKind} from '../../../src/observe/describe.js'
import {type ClusterFacts, type Observation, type VirtualMeshTrust, buildObservation} from '../../../src/observe/observation.js'
import {simulate} from '../../../src/observe/simulate.js'
import {renderCheck, renderDescription, renderSimulation} from '../../../src/ui/observe.js'
import {Chalk} from 'chalk'
import {FIXTURE_SNAPSHOTS, GOLDEN_DIR, snapshotObjects} from '../../support/golden.js'

const SEED = join(GOLDEN_DIR, 'seed-failover')
const load = (file: string): SmhResource[] => parseAllDocuments(readFileSync(join(SEED, file), 'utf8')).map((d) => d.toJSON()).filter(Boolean)
const seed = () => [...load('input.yaml'), ...load('virtualmesh.yaml')].map((r) => ({...r, metadata: {...r.metadata, generation: 1}})) as SmhResource[]
const NOW = new Date('2026-06-01T00:00:00Z')
const noColor = new Chalk({level: 0})

let snapshots: Record<string, KubeObject[]>
beforeAll(async () => {
  snapshots = {kind2: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind2.yaml')), kind3: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind3.yaml'))}
})

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x))

/** The seed synced: statuses stored as translation says, generated objects live, cacerts from one root, aliases set. */
function healthy(options: {resources?: SmhResource[]; snaps?: Record<string, KubeObject[]>; trust?: VirtualMeshTrust[]; clusters?: ClusterFacts[]} = {}): Observation {
  const resources = options.resources ?? seed()
  const snaps = options.snaps ?? withAliases(snapshots)
  const first = buildObservation({now: NOW, resources, snapshots: snaps})
  const stored = first.statuses.map((s) => ({id: `${s.kind}/${s.namespace}/${s.name}`, kind: s.kind, namespace: s.namespace, name: s.name, generation: 1,
    status: {state: s.state, observedGeneration: 1, ...(s.errors.length ? {errors: s.errors} : {})}}))
  const clusters: ClusterFacts[] = options.clusters ?? ['kind2', 'kind3'].map((name) => ({name, tokenExpires: '2027-06-01T00:00:00Z', apiServerVersion: 'v1.37.2',
    live: first.objects[name].map((o) => ({key: `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, sources: [], otherManagers: []}))}))
  const trust = options.trust ?? [{virtualMesh: 'VirtualMesh/service-mesh-hub/virtual-mesh', rootSecret: 'service-mesh-hub/virtual-mesh.service-mesh-hub', rootFingerprint: 'AA:BB', rootNotAfter: '2036-01-01T00:00:00Z',
    meshes: ['kind2', 'kind3'].map((c) => ({mesh: `istiod-istio-system-${c}`, cluster: c, namespace: 'istio-system', present: true, rootFingerprint: 'AA:BB', notAfter: '2027-06-01T00:00:00Z', daysLeft: 365, chainsToRoot: true}))}]
  return buildObservation({now: NOW, resources, snapshots: snaps, stored, clusters, trust, mgmt: {context: 'kind1', crdsInstalled: true}})
}

/** The mesh configs as sync's trust step leaves them: each accepts the other's trust domain. */
function withAliases(source: Record<string, KubeObject[]>): Record<string, KubeObject[]> {
  const out = clone(source)
  for (const [cluster, other] of [['kind2', 'kind3'], ['kind3', 'kind2']]) {
    const cm = out[cluster].find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio')!
    cm.data!.mesh = `${cm.data!.mesh}\ntrustDomainAliases: [${other}]\n`
  }
  return out
}

const lines = (o: Observation) => runChecks(o).groups.flatMap((g) => g.checks.map((c) => ({group: g.name, ...c})))
const failures = (o: Observation) => lines(o).filter((l) => l.state === 'fail')

describe('describe', () => {
  it('service: mesh, endpoints per cluster, policies in acceptance order, the failover it backs, generated objects per cluster', () => {
    const d = describeIt(healthy(), 'service', 'kind2/default/reviews') as ServiceDescription
    expect(d.mesh).toBe('istiod-istio-system-kind2')
    expect(d.endpoints).toEqual([{cluster: 'kind2', service: 'kind2/default/reviews', ready: 2, total: 2}, {cluster: 'kind3', service: 'kind3/default/reviews', ready: 3, total: 3}])
    // No creationTimestamp in files: acceptance order falls back to namespace/name.
    expect(d.policies.map((p) => [p.order, p.id, p.state])).toEqual([[1, 'TrafficPolicy/default/reviews-shift-failover', 'ACCEPTED'], [2, 'TrafficPolicy/service-mesh-hub/mgmt-reviews-outlier', 'ACCEPTED']])
    expect(d.failoverServices).toEqual([expect.objectContaining({id: 'FailoverService/service-mesh-hub/reviews-failover', priority: 1, of: 2, state: 'ACCEPTED'})])
    const byCluster = (c: string) => d.generated.filter((g) => g.cluster === c).map((g) => `${g.kind}/${g.name}`)
    expect(byCluster('kind2')).toEqual(expect.arrayContaining(['VirtualService/reviews', 'DestinationRule/reviews', 'EnvoyFilter/reviews-failover']))
    expect(byCluster('kind3')).toEqual(expect.arrayContaining(['ServiceEntry/reviews.default.svc.kind2.global']))
    expect(d.generated.every((g) => g.live === true)).toBe(true)
    expect(describeIt(healthy(), 'service', 'reviews-default-kind2')).toEqual(d)
    const text = renderDescription(d)
    expect(text).toMatch(/Traffic policies \(in order of acceptance\):/)
    expect(text).toMatch(/kind2\s+VirtualService\s+default\s+reviews/)
  })

  it('service: a policy that lost a conflict is shown after the one accepted first, with why', () => {
    const resources = parseAllDocuments(readFileSync(join(GOLDEN_DIR, 'conflicts', 'input.yaml'), 'utf8')).map((d) => d.toJSON()).filter(Boolean) as SmhResource[]
    const d = describeIt(buildObservation({now: NOW, resources, snapshots}), 'service', 'kind2/default/ratings') as ServiceDescription
    const lost = d.policies.filter((p) => p.state === 'INVALID')
    expect(lost.map((p) => p.id)).toEqual(['TrafficPolicy/service-mesh-hub/ratings-retries-5'])
    expect(lost[0].errors.join()).toContain('ratings-retries-3')
    expect(d.policies.findIndex((p) => p.id.endsWith('/ratings-retries-3'))).toBeLessThan(d.policies.findIndex((p) => p.id.endsWith('/ratings-retries-5')))
    expect(renderDescription(d)).toMatch(/ratings-retries-5\s+INVALID \(lost\)/)
  })

  it('failoverservice: backing services in order with endpoints and outlier detection; kind2 serves while healthy', () => {
    const d = describeIt(healthy(), 'fs', 'reviews-failover') as FailoverServiceDescription
    expect(d.backing.map((b) => [b.priority, b.service, b.ready, b.outlierDetection?.maxEjectionPercent])).toEqual([[1, 'kind2/default/reviews', 2, 100], [2, 'kind3/default/reviews', 3, 100]])
    expect(d.servingNow).toBe('kind2/default/reviews')
    expect(d.status.state).toBe('ACCEPTED')
  })

  it('virtualmesh: root, intermediates, and which services are visible where', () => {
    const d = describeIt(healthy(), 'virtualmesh', 'virtual-mesh') as VirtualMeshDescription
    expect(d.root.fingerprint).toBe('AA:BB')
    expect(d.meshes.map((m) => [m.mesh, m.intermediate?.chainsToRoot])).toEqual([['istiod-istio-system-kind2', true], ['istiod-istio-system-kind3', true]])
    expect(d.federation.find((f) => f.service === 'kind3/default/reviews')?.visibleIn).toEqual(['kind2'])
    // What its federation costs per member cluster: the seed is permissive, so kind2 holds kind3's services and back.
    expect(d.estimate.mode).toBe('permissive')
    expect(d.estimate.clusters.map((c) => c.cluster)).toEqual(['kind2', 'kind3'])
    for (const c of d.estimate.clusters) expect(c.federatedServices, c.cluster).toBeGreaterThan(0)
    expect(renderDescription(d, noColor)).toMatch(/federation all \(permissive\): estimate per cluster[\s\S]*kind2\s+\d+/)
  })

  it('cluster: token expiry and gateways with addresses', () => {
    const d = describeIt(healthy(), 'cluster', 'kind3')
    expect(d).toMatchObject({kind: 'cluster', tokenDaysLeft: 365, apiServerVersion: 'v1.37.2'})
    expect(renderDescription(d)).toMatch(/istio-system\/istio-ingressgateway \S+:\d+/)
  })

  it('a missing name is a usage error with the nearest names', () => {
    expect(() => describeIt(healthy(), 'fs', 'reviews-failovr')).toThrow(/FailoverService reviews-failovr not found; nearest: reviews-failover/)
    expect(() => describeIt(healthy(), 'service', 'kind2/default/reviewz')).toThrow(/nearest: kind2\/default\/reviews/)
    expect(() => describeIt(healthy(), 'cluster', 'kind4')).toThrow(/nearest: kind2, kind3/)
    expect(() => describeKind('failoversvc')).toThrow(UsageError)
    expect(() => describeIt(healthy(), 'vm', 'nope')).toThrow(UsageError)
  })
})

describe('check', () => {
  it('the seed synced passes every check', () => {
    const report = runChecks(healthy())
    expect(failures(healthy())).toEqual([])
    expect(report.groups.map((g) => g.name)).toEqual(['management (kind1)', 'cluster kind2', 'cluster kind3'])
    const text = renderCheck(report, noColor)
    expect(text).toMatch(/✓ istiod-istio-system-kind3: cacerts chains to virtual-mesh's root/)
    expect(text).toMatch(/✓ reviews-failover: backing default\/reviews has outlier detection \(maxEjectionPercent 100\)/)
  })

  it('Envoy clusters per sidecar: ✓ under the limit, ! past it with on-demand federation as the fix', () => {
    const ok = lines(healthy()).filter((l) => l.title.startsWith('Envoy clusters per sidecar'))
    expect(ok.map((l) => [l.group, l.state])).toEqual([['cluster kind2', 'ok'], ['cluster kind3', 'ok']])
    const report = runChecks(healthy(), {envoyClustersPerSidecar: 5})
    const warned = report.groups.flatMap((g) => g.checks).filter((l) => l.title.startsWith('Envoy clusters per sidecar'))
    expect(warned.map((l) => l.state)).toEqual(['warn', 'warn'])
    expect(warned[0].detail).toMatch(/past 5, Istio's scale guidance/)
    expect(warned[0].fix).toMatch(/--federation on-demand/)
    expect(report.failed).toBe(0) // a warning, not a failure: check still exits 0
  })

  it('kind3 without cacerts: ✗ under kind3 with sync as the fix', () => {
    const o = healthy()
    o.trust[0].meshes[1] = {...o.trust[0].meshes[1], present: false, rootFingerprint: undefined, chainsToRoot: undefined}
    expect(failures(o)).toEqual([expect.objectContaining({group: 'cluster kind3', title: expect.stringContaining('istiod-istio-system-kind3: cacerts chains'), detail: expect.stringContaining('no Secret cacerts'), fix: expect.stringContaining('kubectl smh sync')})])
  })

  it('the outlier policy gone: ✗ for each backing service with set outlier as the fix', () => {
    const o = healthy({resources: seed().filter((r) => r.metadata.name !== 'mgmt-reviews-outlier')})
    const outlier = failures(o).filter((f) => /outlier detection/.test(f.title))
    expect(outlier.map((f) => f.group)).toEqual(['cluster kind2', 'cluster kind3'])
    expect(outlier[0].fix).toBe('kubectl smh set outlier kind2/default/reviews --max-ejection-percent 100')
  })

  it('maxEjectionPercent below 100, an expiring intermediate, a stale status, another field manager, a missing alias, an expired token', () => {
    const resources = seed()
    const tp = resources.find((r) => r.metadata.name === 'mgmt-reviews-outlier')! as {spec: {outlierDetection: {maxEjectionPercent?: number}}}
    tp.spec.outlierDetection.maxEjectionPercent = 50
    const o = healthy({resources, snaps: snapshots})
    o.trust[0].meshes[0].daysLeft = 10
    o.stored[0].generation = 2
    o.clusters[0].live![0].otherManagers = [{manager: 'kubectl-edit', operation: 'Update'}]
    o.clusters[1].tokenExpires = '2026-05-01T00:00:00Z'
    Object.assign(o.discovery[0].meshes[0], {skipTrustDomainValidation: false, trustDomainAliases: []})
    const titles = failures(o).map((f) => `${f.group}: ${f.title}`)
    expect(titles).toEqual(expect.arrayContaining([
      expect.stringMatching(/^management.*ACCEPTED at generation 2/),
      expect.stringMatching(/^cluster kind2: istiod-istio-system-kind2: cacerts/),
      expect.stringMatching(/^cluster kind2: istiod-istio-system-kind2 accepts the trust domains/),
      expect.stringMatching(/^cluster kind2: reviews-failover: backing default\/reviews has outlier detection with maxEjectionPercent 100/),
      'cluster kind2: no generated object changed by another field manager',
      'cluster kind3: reachable with its stored token',
    ]))
  })

  it('an unreachable cluster fails its group only; management without CRDs says install', () => {
    const o = healthy()
    o.clusters[1] = {name: 'kind3', error: 'cluster "kind3": connect ECONNREFUSED'}
    expect(failures(o).map((f) => f.group)).toEqual(['cluster kind3'])
    const bare = {...healthy(), mgmt: {context: 'kind1', crdsInstalled: false, error: 'the SMH CRDs are not installed'}}
    expect(failures(bare)).toEqual([expect.objectContaining({fix: 'kubectl smh install --mgmt-context kind1'})])
  })
})

describe('simulate', () => {
  it('kind2 calls reviews: the failover tiers, kind2 serving; remote kind3 reaches kind2 through its gateway', () => {
    const s = simulate(healthy(), 'kind2/default/reviews')
    expect(s.healthy.map((c) => [c.cluster, c.host])).toEqual([['kind2', 'reviews.default.svc.cluster.local'], ['kind3', 'reviews.default.svc.kind2.global']])
    const kind2 = s.healthy[0].routes.flatMap((r) => r.destinations)
    expect(kind2).toEqual([expect.objectContaining({type: 'failover', host: 'reviews-failover.default.global', weight: 100, servedBy: 'kind2/default/reviews'})])
    expect(kind2[0].tiers.map((t) => [t.priority, t.service, t.via.split(' ')[0]])).toEqual([[1, 'kind2/default/reviews', 'local'], [2, 'kind3/default/reviews', 'gateway']])
    expect(s.healthy[1].routes[0].destinations[0].servedBy).toBe('kind2/default/reviews')
    expect(s.warnings).toEqual([])
    expect(s.failed).toBeUndefined()
  })

  it('--fail kind2: kind3 serves; --from limits the clients', () => {
    const s = simulate(healthy(), 'reviews-default-kind2', {from: 'kind2', fail: ['kind2']})
    expect(s.healthy.map((c) => c.cluster)).toEqual(['kind2'])
    expect(s.healthy[0].routes[0].destinations[0].servedBy).toBe('kind2/default/reviews')
    expect(s.failed![0].routes[0].destinations[0].servedBy).toBe('kind3/default/reviews')
    expect(renderSimulation(s)).toMatch(/With kind2 failed:[\s\S]*priority 2: kind3\/default\/reviews via gateway \S+, 3 ready {2}← serves/)
    const both = simulate(healthy(), 'kind2/default/reviews', {fail: ['kind2', 'kind3/default/reviews']})
    expect(both.failed![0].routes[0].destinations[0].servedBy).toBeUndefined()
  })

  it('warns on what defeats failover: no outlier detection, a gateway without an address', () => {
    const o = healthy()
    o.discovery[1].meshes[0].gateways[0].externalAddress = ''
    const s = simulate(o, 'kind2/default/reviews', {from: 'kind2', fail: ['kind2']})
    expect(s.warnings).toEqual(['kind3/default/reviews is reached from kind2 through kind3\'s gateway, which has no address: requests to it fail'])
    expect(s.failed![0].routes[0].destinations[0].servedBy).toBeUndefined()
    expect(failures(o)).toEqual([expect.objectContaining({group: 'cluster kind3', title: 'gateway istio-system/istio-ingressgateway has an address'})])
    const noOutlier = simulate(healthy({resources: seed().filter((r) => r.metadata.name !== 'mgmt-reviews-outlier')}), 'kind2/default/reviews')
    expect(noOutlier.warnings.join('\n')).toMatch(/FailoverService\/service-mesh-hub\/reviews-failover, which kind2\/default\/reviews backs, is INVALID \(.*no TrafficPolicy with outlierDetection/)
  })

  it('bad --from or --fail: a usage error with the nearest name', () => {
    expect(() => simulate(healthy(), 'kind2/default/reviews', {from: 'kind4'})).toThrow(/--from kind4: .*did you mean kind2\?/)
    expect(() => simulate(healthy(), 'kind2/default/reviews', {fail: ['kind9']})).toThrow(/--fail kind9: no such cluster/)
    expect(() => simulate(healthy(), 'kind2/default/reviewz')).toThrow(/SERVICE kind2\/default\/reviewz not found/)
  })
})
