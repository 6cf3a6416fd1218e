/**
 * The verbs' pure part: flags + what discovery sees (the seed's kind2 and kind3 snapshots) → SMH resources, or one
 * line naming the bad value, the flag and the nearest valid choice.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import type {SmhResource} from '../../../../src/api/types.js'
import {discoverCluster} from '../../../../src/discovery/discover.js'
import {UsageError} from '../../../../src/errors.js'
import {closeNames, distance, nearest} from '../../../../src/nearest.js'
import {addFailoverServiceMissing, checkHostname, parsePort, planAddFailoverService} from '../../../../src/services/verbs/add-failoverservice.js'
import {allowAccessMissing, planAllowAccess} from '../../../../src/services/verbs/allow-access.js'
import type {World} from '../../../../src/services/verbs/author.js'
import {CA_KEY_ALGORITHM_ANNOTATION} from '../../../../src/api/types.js'
import {planCreateVirtualMesh} from '../../../../src/services/verbs/create-virtualmesh.js'
import {planSetOutlier} from '../../../../src/services/verbs/set-outlier.js'
import {planSetRoute} from '../../../../src/services/verbs/set-route.js'
import {parseDestination, planShiftTraffic} from '../../../../src/services/verbs/shift-traffic.js'
import {translate} from '../../../../src/translate/index.js'
import {FIXTURE_SNAPSHOTS, GOLDEN_DIR, goldenCases, runCase, snapshotObjects} from '../../../support/golden.js'

const SEED = join(GOLDEN_DIR, 'seed-failover')
const seedResources = (file: string): SmhResource[] => parseAllDocuments(readFileSync(join(SEED, file), 'utf8')).map((d) => d.toJSON()).filter(Boolean)
const seed = () => [...seedResources('input.yaml'), ...seedResources('virtualmesh.yaml')]
const seedNamed = (name: string) => seed().find((r) => r.metadata.name === name)!

let snapshots: Record<string, Awaited<ReturnType<typeof snapshotObjects>>>
const world = (resources: SmhResource[] = []): World => ({
  discovery: ['kind2', 'kind3'].map((c) => discoverCluster(c, snapshots[c])),
  resources,
  registered: ['kind2', 'kind3'],
  failures: new Map(),
})

beforeAll(async () => {
  snapshots = {kind2: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind2.yaml')), kind3: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind3.yaml'))}
})

/** The UsageError a plan throws: exit 2, one line, no detail lines. */
function usage(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    const e = error as UsageError
    expect(e.exitCode).toBe(2)
    expect(e.details).toEqual([])
    expect(e.message).not.toContain('\n')
    return e.message
  }
  throw new Error('expected a UsageError')
}

const VM = {name: 'virtual-mesh', mesh: ['istiod-istio-system-kind2', 'istiod-istio-system-kind3'], autoRestartPods: true}
const OUTLIER = {services: ['kind2/default/reviews', 'kind3/default/reviews'], name: 'mgmt-reviews-outlier', consecutiveErrors: 1, interval: '10s', baseEjectionTime: '2m'}
const FS = {name: 'reviews-failover', hostname: 'reviews-failover.default.global', port: '9080/http', backing: ['kind2/default/reviews', 'kind3/default/reviews']}
const SHIFT = {service: 'kind2/default/reviews', toFailover: 'reviews-failover', namespace: 'default'}

describe('the seed walkthrough, as flags', () => {
  it('create virtualmesh --federation all builds the seed\'s VirtualMesh (SMH 0.9 permissive)', () => {
    expect(planCreateVirtualMesh(world(), {...VM, federation: 'all'}).resources).toEqual([seedNamed('virtual-mesh')])
  })

  it('set outlier with --name mgmt-reviews-outlier builds the seed\'s TrafficPolicy', () => {
    expect(planSetOutlier(world(), OUTLIER).resources).toEqual([seedNamed('mgmt-reviews-outlier')])
  })

  it('add failoverservice builds the seed\'s FailoverService (mesh of the first backing service, said so) and no outlier policy when one exists', () => {
    const stored = [seedNamed('virtual-mesh'), seedNamed('mgmt-reviews-outlier')]
    const plan = planAddFailoverService(world(stored), FS)
    expect(plan.resources).toEqual([seedNamed('reviews-failover')])
    expect(plan.notes.join('\n')).toMatch(/--mesh not given: .*istiod-istio-system-kind2.*kind2\/default\/reviews/)
  })

  it('shift traffic --to-failover builds the seed\'s reviews-shift-failover in namespace default', () => {
    const stored = [seedNamed('virtual-mesh'), seedNamed('mgmt-reviews-outlier'), seedNamed('reviews-failover')]
    expect(planShiftTraffic(world(stored), SHIFT).resources).toEqual([seedNamed('reviews-shift-failover')])
  })

  it.each([
    {label: '--federation all', federation: {federation: 'all' as const}, golden: 'seed-failover'},
    {label: 'the default (on-demand)', federation: {}, golden: 'on-demand-seed'},
  ])('the four verbs (create virtualmesh with $label), each planned on what the earlier ones stored, translate to golden case $golden', {timeout: 30_000}, async ({federation, golden}) => {
    const stored: SmhResource[] = []
    stored.push(...planCreateVirtualMesh(world(stored), {...VM, ...federation}).resources)
    stored.push(...planSetOutlier(world(stored), OUTLIER).resources)
    stored.push(...planAddFailoverService(world(stored), FS).resources)
    stored.push(...planShiftTraffic(world(stored), SHIFT).resources)
    const expected = (await runCase(goldenCases().find((c) => c.name === golden)!)).result!
    const ours = translate({resources: stored, snapshots})
    expect(ours.clusters).toEqual(expected.clusters)
    expect(ours.statuses.map((s) => s.state)).toEqual(expected.statuses.map(() => 'ACCEPTED'))
  })
})

describe('add failoverservice and outlier detection', () => {
  it('a backing service without outlier detection gets <name>-outlier with SMH\'s defaults, and a note', () => {
    const plan = planAddFailoverService(world([seedNamed('virtual-mesh')]), FS)
    expect(plan.resources.map((r) => `${r.kind}/${r.metadata.name}`)).toEqual(['TrafficPolicy/reviews-failover-outlier', 'FailoverService/reviews-failover'])
    expect(plan.resources[0].spec).toEqual({
      destinationSelector: [{kubeServiceRefs: {services: [{name: 'reviews', namespace: 'default', clusterName: 'kind2'}, {name: 'reviews', namespace: 'default', clusterName: 'kind3'}]}}],
      outlierDetection: {consecutiveErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100},
    })
    expect(plan.notes.join('\n')).toContain('added TrafficPolicy service-mesh-hub/reviews-failover-outlier')
    // And the result translates ACCEPTED.
    const statuses = translate({resources: [seedNamed('virtual-mesh'), ...plan.resources], snapshots}).statuses
    expect(statuses.every((s) => s.state === 'ACCEPTED')).toBe(true)
  })

  it('only the services lacking it, with the values given', () => {
    const kind2Only = planSetOutlier(world(), {services: ['kind2/default/reviews']}).resources
    const plan = planAddFailoverService(world([seedNamed('virtual-mesh'), ...kind2Only]), {...FS, consecutiveErrors: 2, interval: '5s', baseEjectionTime: '1m'})
    expect(plan.resources[0].spec).toEqual({
      destinationSelector: [{kubeServiceRefs: {services: [{name: 'reviews', namespace: 'default', clusterName: 'kind3'}]}}],
      outlierDetection: {consecutiveErrors: 2, interval: '5s', baseEjectionTime: '1m', maxEjectionPercent: 100},
    })
  })

  it('--no-outlier makes it an error naming the services and the fix', () => {
    const message = usage(() => planAddFailoverService(world([seedNamed('virtual-mesh')]), {...FS, noOutlier: true}))
    expect(message).toContain('kind2/default/reviews, kind3/default/reviews')
    expect(message).toContain('kubectl smh set outlier kind2/default/reviews kind3/default/reviews')
  })

  it('an outlier policy that is INVALID does not count', () => {
    const bad = {...seedNamed('mgmt-reviews-outlier'), spec: {...seedNamed('mgmt-reviews-outlier').spec, destinationSelector: [{kubeServiceRefs: {services: [{name: 'nope', namespace: 'default', clusterName: 'kind2'}]}}]}} as SmhResource
    const plan = planAddFailoverService(world([seedNamed('virtual-mesh'), bad]), FS)
    expect(plan.resources[0].metadata.name).toBe('reviews-failover-outlier')
  })
})

describe('bad input: one line naming the value, the flag and the nearest valid choice', () => {
  const w = () => world([seedNamed('virtual-mesh'), seedNamed('mgmt-reviews-outlier'), seedNamed('reviews-failover')])
  it.each([
    ['unknown cluster', () => planAddFailoverService(w(), {...FS, backing: ['kind4/default/reviews']}), ['--backing kind4/default/reviews', 'no registered cluster "kind4"', 'did you mean kind2?']],
    ['unknown service', () => planAddFailoverService(w(), {...FS, backing: ['kind2/default/reviewz']}), ['--backing kind2/default/reviewz', 'did you mean kind2/default/reviews?']],
    ['unknown discovered name', () => planShiftTraffic(w(), {...SHIFT, service: 'reviews-default-kind22'}), ['SERVICE reviews-default-kind22', 'did you mean reviews-default-kind2?']],
    ['malformed service', () => planSetOutlier(w(), {services: ['kind2/reviews']}), ['SERVICE kind2/reviews', 'expected CLUSTER/NAMESPACE/SERVICE']],
    ['duplicate backing', () => planAddFailoverService(w(), {...FS, backing: ['kind2/default/reviews', 'reviews-default-kind2']}), ['--backing reviews-default-kind2', 'the same service as --backing kind2/default/reviews']],
    ['port the service lacks', () => planAddFailoverService(w(), {...FS, port: '9081/http'}), ['--port 9081/http', 'has no port 9081', 'did you mean 9080/http?']],
    ['unknown protocol', () => planAddFailoverService(w(), {...FS, port: '9080/htp'}), ['--port 9080/htp', 'did you mean 9080/http?']],
    ['hostname not a DNS name', () => planAddFailoverService(w(), {...FS, hostname: 'Reviews_Failover.default.global'}), ['--hostname Reviews_Failover.default.global', 'not a DNS name', 'did you mean reviews-failover.default.global?']],
    ['hostname not under .global', () => planAddFailoverService(w(), {...FS, hostname: 'reviews-failover.default'}), ['--hostname reviews-failover.default', 'did you mean reviews-failover.default.global?']],
    ['unknown mesh (fs)', () => planAddFailoverService(w(), {...FS, mesh: ['istiod-istio-system-kind9']}), ['--mesh istiod-istio-system-kind9', 'did you mean istiod-istio-system-kind2?']],
    ['unknown mesh (vm)', () => planCreateVirtualMesh(world(), {...VM, mesh: ['istiod-istio-sytem-kind3']}), ['--mesh istiod-istio-sytem-kind3', 'did you mean istiod-istio-system-kind3?']],
    ['mesh in another VirtualMesh', () => planCreateVirtualMesh(w(), {...VM, name: 'other'}), ['--mesh istiod-istio-system-kind2', 'already in VirtualMesh service-mesh-hub/virtual-mesh']],
    ['bad duration', () => planSetOutlier(w(), {...OUTLIER, interval: '10'}), ['--interval 10', 'not a duration', 'did you mean 10s?']],
    ['bad duration unit', () => planSetRoute(w(), {services: ['kind2/default/ratings'], timeout: '2sec'}), ['--timeout 2sec', 'not a duration']],
    ['out of range', () => planSetOutlier(w(), {...OUTLIER, maxEjectionPercent: 150}), ['--max-ejection-percent 150', 'did you mean 100?']],
    ['unknown failover service', () => planShiftTraffic(w(), {...SHIFT, toFailover: 'reviews-failvoer'}), ['--to-failover reviews-failvoer', 'did you mean reviews-failover?']],
    ['weights not 100', () => planShiftTraffic(w(), {service: 'kind2/default/reviews', to: ['kind2/default/reviews=50', 'kind3/default/reviews=40']}), ['--to: the weights add up to 90, not 100', 'did you mean kind3/default/reviews=50?']],
    ['unknown subset', () => planShiftTraffic(w(), {service: 'kind2/default/reviews', to: ['kind2/default/reviews:version=v3=50', 'kind3/default/reviews=50']}), ['--to kind2/default/reviews:version=v3=50', 'version=v3', 'did you mean kind2/default/reviews:version=v']],
    ['unweighted among several', () => planShiftTraffic(w(), {service: 'kind2/default/reviews', to: ['kind2/default/reviews', 'kind3/default/reviews=50']}), ['--to kind2/default/reviews: needs a weight']],
    ['unknown service account', () => planAllowAccess(w(), {from: ['kind2/default/bookinfo-productpag'], to: ['kind3/default/reviews']}), ['--from kind2/default/bookinfo-productpag', 'did you mean kind2/default/bookinfo-productpage?']],
    ['bad name', () => planSetOutlier(w(), {...OUTLIER, name: 'Reviews_Outlier'}), ['--name Reviews_Outlier', 'did you mean reviews-outlier?']],
    ['hostname taken', () => planAddFailoverService(w(), {...FS, name: 'other-failover'}), ['--hostname reviews-failover.default.global', 'FailoverService/service-mesh-hub/reviews-failover']],
  ])('%s', (_, fn, parts) => {
    const message = usage(fn as () => unknown)
    for (const part of parts as string[]) expect(message).toContain(part)
  })

  it('missing flags are named all at once, with the way to a wizard', () => {
    expect(addFailoverServiceMissing({name: 'x'})).toEqual(['--hostname', '--port', '--backing'])
    expect(usage(() => planAddFailoverService(world(), {name: 'x', backing: []}))).toBe('missing --hostname, --port, --backing (or run on a terminal for a wizard)')
    expect(allowAccessMissing({from: [], to: []})).toEqual(['--from', '--to'])
    expect(usage(() => planShiftTraffic(world(), {}))).toBe('missing SERVICE, --to or --to-failover (or run on a terminal for a wizard)')
  })

  it('a cluster that could not be read is named with why', () => {
    const broken = {...world(), discovery: world().discovery.filter((d) => d.cluster === 'kind2'), failures: new Map([['kind3', 'connection refused']])}
    expect(usage(() => planSetOutlier(broken, {services: ['kind3/default/reviews']}))).toContain('cluster kind3 could not be read (connection refused)')
  })
})

describe('shift traffic with weights and subsets', () => {
  it('parses CLUSTER/NS/SVC[:LABEL=VALUE]=WEIGHT', () => {
    expect(parseDestination('kind2/default/reviews=50')).toEqual({service: 'kind2/default/reviews', weight: 50})
    expect(parseDestination('kind3/default/reviews:version=v3=50')).toEqual({service: 'kind3/default/reviews', subset: {version: 'v3'}, weight: 50})
    expect(parseDestination('kind3/default/reviews:version=v3')).toEqual({service: 'kind3/default/reviews', subset: {version: 'v3'}})
    expect(parseDestination('kind3/default/reviews:version=v3,app=reviews=10')).toEqual({service: 'kind3/default/reviews', subset: {version: 'v3', app: 'reviews'}, weight: 10})
    expect(parseDestination('reviews-default-kind2')).toEqual({service: 'reviews-default-kind2'})
    expect(parseDestination('kind3/default/reviews:version=50')).toEqual({service: 'kind3/default/reviews', subset: {version: '50'}})
    expect(() => parseDestination('kind3/default/reviews:version')).toThrow(/LABEL=VALUE/)
  })

  it('builds a weighted shift named <svc>-shift that translates ACCEPTED', () => {
    const stored = [seedNamed('virtual-mesh')]
    const plan = planShiftTraffic(world(stored), {service: 'reviews-default-kind2', to: ['kind2/default/reviews=50', 'kind3/default/reviews:version=v3=50']})
    expect(plan.resources[0].metadata).toEqual({name: 'reviews-shift', namespace: 'service-mesh-hub'})
    expect(plan.resources[0].spec).toEqual({
      destinationSelector: [{kubeServiceRefs: {services: [{name: 'reviews', namespace: 'default', clusterName: 'kind2'}]}}],
      trafficShift: {destinations: [
        {kubeService: {name: 'reviews', namespace: 'default', clusterName: 'kind2'}, weight: 50},
        {kubeService: {name: 'reviews', namespace: 'default', clusterName: 'kind3', subset: {version: 'v3'}}, weight: 50},
      ]},
    })
    const statuses = translate({resources: [...stored, ...plan.resources], snapshots}).statuses
    expect(statuses.find((s) => s.name === 'reviews-shift')!.state).toBe('ACCEPTED')
  })

  it('one destination alone may leave out its weight (100)', () => {
    const plan = planShiftTraffic(world(), {service: 'kind2/default/reviews', to: ['kind2/default/reviews:version=v2']})
    expect((plan.resources[0].spec as {trafficShift: unknown}).trafficShift).toEqual({destinations: [{kubeService: {name: 'reviews', namespace: 'default', clusterName: 'kind2', subset: {version: 'v2'}}, weight: 100}]})
  })
})

describe('the other verbs', () => {
  it('create virtualmesh: ECDSA as an annotation, the user\'s root as a secret ref, no federation, global access policy', () => {
    const [ecdsa] = planCreateVirtualMesh(world(), {...VM, caKeyAlgorithm: 'ecdsa'}).resources
    expect(ecdsa.metadata.annotations).toEqual({[CA_KEY_ALGORITHM_ANNOTATION]: 'ecdsa'})
    const [own] = planCreateVirtualMesh(world(), {...VM, rootCaSecret: 'service-mesh-hub/my-root', noFederation: true, globalAccessPolicy: 'enabled'}).resources
    expect(own.spec).toEqual({
      meshes: [{name: 'istiod-istio-system-kind2', namespace: 'service-mesh-hub'}, {name: 'istiod-istio-system-kind3', namespace: 'service-mesh-hub'}],
      mtlsConfig: {shared: {rootCertificateAuthority: {secret: {name: 'my-root', namespace: 'service-mesh-hub'}}}, autoRestartPods: true},
      federation: {none: {}},
      globalAccessPolicy: 'ENABLED',
    })
    expect(usage(() => planCreateVirtualMesh(world(), {...VM, rootCaSecret: 'a/b', caKeyAlgorithm: 'ecdsa'}))).toContain('--ca-key-algorithm ecdsa')
  })

  it('create virtualmesh --federation: on-demand by default for a new VirtualMesh, all = permissive, none; --no-federation = none (deprecated); the estimate per member cluster', () => {
    const spec = (options: Record<string, unknown>) => planCreateVirtualMesh(world(), {...VM, name: 'fleet', ...options}).resources[0].spec as {federation?: unknown}
    expect(spec({}).federation).toEqual({onDemand: {}})
    expect(spec({federation: 'on-demand'}).federation).toEqual({onDemand: {}})
    expect(spec({federation: 'all'}).federation).toEqual({permissive: {}})
    expect(spec({federation: 'none'}).federation).toEqual({none: {}})
    expect(spec({noFederation: true}).federation).toEqual({none: {}})
    expect(planCreateVirtualMesh(world(), {...VM, name: 'fleet', noFederation: true}).notes.join('\n')).toContain('--no-federation is deprecated: it means --federation none')
    expect(usage(() => planCreateVirtualMesh(world(), {...VM, name: 'fleet', noFederation: true, federation: 'all'}))).toContain('--no-federation contradicts --federation all')
    const estimate = (federation: 'all' | 'on-demand') => planCreateVirtualMesh(world(), {...VM, name: 'fleet', federation}).estimate!
    expect(estimate('all').mode).toBe('permissive')
    expect(estimate('all').clusters.map((c) => c.cluster)).toEqual(['kind2', 'kind3'])
    // The bookinfo clusters: 4 services each, all federated under all, nothing routes across under on-demand.
    expect(estimate('all').clusters.map((c) => c.federatedServices)).toEqual([4, 4])
    expect(estimate('on-demand').clusters.map((c) => [c.federatedServices, c.federationObjects])).toEqual([[0, 0], [0, 0]])
    expect(estimate('all').clusters[0].envoyClustersPerSidecar).toBeGreaterThan(estimate('on-demand').clusters[0].envoyClustersPerSidecar)
  })

  it('re-running create virtualmesh without --federation keeps the stored mode', () => {
    const stored = seedNamed('virtual-mesh')
    expect((planCreateVirtualMesh(world([stored]), VM).resources[0].spec as {federation?: unknown}).federation).toEqual((stored.spec as {federation?: unknown}).federation)
    expect((planCreateVirtualMesh(world([stored]), {...VM, federation: 'on-demand'}).resources[0].spec as {federation?: unknown}).federation).toEqual({onDemand: {}})
  })

  it('re-running create virtualmesh with the same name is an update, not "already in"', () => {
    expect(planCreateVirtualMesh(world([seedNamed('virtual-mesh')]), VM).resources).toEqual([seedNamed('virtual-mesh')])
  })

  it('set route: timeout and retries, named <svc>-route', () => {
    const [policy] = planSetRoute(world(), {services: ['kind2/default/ratings'], timeout: '2s', retries: 3, perTryTimeout: '500ms'}).resources
    expect(policy.metadata.name).toBe('ratings-route')
    expect(policy.spec).toEqual({destinationSelector: [{kubeServiceRefs: {services: [{name: 'ratings', namespace: 'default', clusterName: 'kind2'}]}}], requestTimeout: '2s', retries: {attempts: 3, perTryTimeout: '500ms'}})
  })

  it('set outlier over services of different names needs --name', () => {
    expect(usage(() => planSetOutlier(world(), {services: ['kind2/default/reviews', 'kind2/default/ratings']}))).toContain('--name is needed')
    expect(planSetOutlier(world(), {services: ['kind2/default/reviews', 'kind3/default/reviews']}).resources[0].metadata.name).toBe('reviews-outlier')
  })

  it('allow access: the SMH 0.9 identity selector, and it translates to an ALLOW AuthorizationPolicy', () => {
    const stored = [seedNamed('virtual-mesh')]
    const [policy] = planAllowAccess(world(stored), {from: ['kind2/default/bookinfo-productpage'], to: ['kind3/default/reviews']}).resources
    expect(policy.metadata.name).toBe('bookinfo-productpage-to-reviews')
    expect(policy.spec).toEqual({
      sourceSelector: [{kubeServiceAccountRefs: {serviceAccounts: [{name: 'bookinfo-productpage', namespace: 'default', clusterName: 'kind2'}]}}],
      destinationSelector: [{kubeServiceRefs: {services: [{name: 'reviews', namespace: 'default', clusterName: 'kind3'}]}}],
    })
    const result = translate({resources: [...stored, policy], snapshots})
    const ap = result.clusters.kind3.find((o) => o.kind === 'AuthorizationPolicy')!
    expect(JSON.stringify(ap.spec)).toContain('kind2/ns/default/sa/bookinfo-productpage')
  })
})

describe('helpers', () => {
  it('nearest names', () => {
    expect(distance('reviews', 'reviewz')).toBe(1)
    expect(nearest('kind4', ['kind3', 'kind2'])).toBe('kind2')
    expect(nearest('Reviews', ['ratings', 'reviews'])).toBe('reviews')
    expect(nearest('x', [])).toBeUndefined()
    expect(closeNames('reviw', ['reviews', 'ratings', 'details'])).toEqual(['reviews'])
  })

  it('hostnames and ports', () => {
    expect(checkHostname('reviews-failover.default.global')).toBe('reviews-failover.default.global')
    expect(parsePort('9080')).toEqual({number: 9080, protocol: 'http'})
    expect(parsePort('9080/GRPC')).toEqual({number: 9080, protocol: 'grpc'})
    expect(usage(() => parsePort('70000/http'))).toContain('not from 1 to 65535')
    expect(usage(() => parsePort('http'))).toContain('expected PORT[/PROTOCOL]')
  })
})
