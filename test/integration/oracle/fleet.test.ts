// Issue 11's must-show: the Envoy clusters on kind2's productpage sidecar, as Istio's xDS generator (test/oracle)
// compiles them, in a fleet of 12 clusters (kind2 and kind3 with bookinfo, plus 10 clusters × 300 services from
// bench/fleet.js) with the seed scenario (kind2's reviews fails over to kind3's), under each federation mode. Under
// permissive the count grows with the fleet; under onDemand with what productpage's routes use: one more remote
// service used (a shift of details to a fleet cluster) is one more Envoy cluster.
import {describe, expect, it} from 'vitest'

import type {SmhResource} from '../../../src/api/types.js'
import {translate} from '../../../src/translate/index.js'
import {goldenCases, snapshotObjects, yamlStream} from '../../support/golden.js'
import {loadResources} from '../../../src/api/load.js'
import {runOracle} from '../../oracle/oracle.js'
// @ts-expect-error plain JavaScript, no types
import {fleetClusterName, fleetSnapshot} from '../../../bench/fleet.js'

const FLEET = 10
const SERVICES = 300
const FEDERATED = /^outbound\|\d+\|[^|]*\|[^|]+\.svc\.[a-z0-9-]+\.global$/

describe('xDS oracle: Envoy clusters on kind2 productpage in a 12-cluster fleet, per federation mode', {timeout: 600_000}, () => {
  it('permissive: every remote service of the fleet; onDemand: what productpage uses (the failover child), one more per remote destination used', async () => {
    const seed = goldenCases().find((c) => c.name === 'seed-failover')!
    const snapshots: Record<string, any[]> = {}
    for (const [cluster, file] of Object.entries(seed.snapshots)) snapshots[cluster] = await snapshotObjects(file)
    for (let i = 0; i < FLEET; i++) snapshots[fleetClusterName(i)] = fleetSnapshot(fleetClusterName(i), i, SERVICES).items
    const loaded = await loadResources([seed.inputs.find((f) => f.endsWith('input.yaml'))!])
    expect(loaded.problems).toEqual([])
    const policies = loaded.resources.map((r) => r.resource)
    const meshes = Object.keys(snapshots).sort().map((cluster) => ({name: `istiod-istio-system-${cluster}`, namespace: 'service-mesh-hub'}))
    const vm = (federation: Record<string, unknown>): SmhResource => ({apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'VirtualMesh', metadata: {name: 'fleet', namespace: 'service-mesh-hub'}, spec: {meshes, federation}})
    const detailsToFleet: SmhResource = {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'TrafficPolicy', metadata: {name: 'details-to-fleet', namespace: 'default'},
      spec: {destinationSelector: [{kubeServiceRefs: {services: [{name: 'details', namespace: 'default', clusterName: 'kind2'}]}}], trafficShift: {destinations: [{kubeService: {name: 'svc-7', namespace: 'default', clusterName: fleetClusterName(3)}}]}}}
    const productpage = snapshots.kind2.find((o) => o.kind === 'Pod' && o.metadata.labels?.app === 'productpage')
    const count = async (resources: SmhResource[]) => {
      const result = translate({resources, snapshots})
      expect(result.statuses.filter((s) => s.state !== 'ACCEPTED').map((s) => `${s.kind}/${s.name}: ${s.errors.join('; ')}`)).toEqual([])
      const r = await runOracle({cluster: 'kind2', proxy: `default/${productpage.metadata.name}`, snapshotFile: seed.snapshots.kind2, configYaml: yamlStream(result.clusters.kind2), simulate: ['http://reviews:9080/']})
      expect(r.simulations?.[0].error).toBeUndefined()
      return {objects: result.clusters.kind2.length, clusters: r.clusters.length, federated: r.clusters.filter((c) => FEDERATED.test(c.name)).length, aggregate: r.simulations?.[0].aggregateChildren}
    }
    const permissive = await count([vm({permissive: {}}), ...policies])
    const onDemand = await count([vm({onDemand: {}}), ...policies])
    const onDemandMore = await count([vm({onDemand: {}}), ...policies, detailsToFleet])
    console.log(`kind2 productpage, 12 clusters (kind2, kind3 + ${FLEET} × ${SERVICES} services): Envoy clusters (of which federated), objects in kind2`)
    for (const [mode, c] of Object.entries({permissive, onDemand, 'onDemand + details→fleet': onDemandMore})) console.log(`  ${mode.padEnd(26)} ${String(c.clusters).padStart(6)} (${c.federated})  ${c.objects}`)
    expect(permissive.federated).toBe(FLEET * SERVICES + 4) // kind3's 4 bookinfo services + the fleet's
    expect(onDemand.federated).toBe(1) // reviews in kind3, the failover's second child
    expect(onDemandMore.federated).toBe(2)
    expect(onDemandMore.clusters - onDemand.clusters).toBe(1)
    expect(onDemand.aggregate).toEqual(permissive.aggregate)
  })
})
