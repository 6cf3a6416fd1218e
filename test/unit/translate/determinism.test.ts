import {readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {parseAllDocuments, stringify} from 'yaml'
import {describe, expect, it} from 'vitest'

import type {SmhResource} from '../../../src/api/types.js'
import {translate} from '../../../src/translate/index.js'
import {VirtualIpAllocator, protoDuration, subsetName} from '../../../src/translate/naming.js'
import {FIXTURE_SNAPSHOTS, snapshotObjects} from '../../support/golden.js'

const fixture = (path: string) => readFileSync(resolve(import.meta.dirname, '../..', path), 'utf8')
const snapshots = {
  kind2: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind2.yaml')),
  kind3: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind3.yaml')),
}
const resources = ['golden/seed-failover/input.yaml', 'golden/seed-failover/virtualmesh.yaml', 'golden/failover-subset/input.yaml']
  .flatMap((f) => parseAllDocuments(fixture(f)).map((d) => d.toJS() as SmhResource))
  .filter((r, i, all) => all.findIndex((o) => o.kind === r.kind && o.metadata.name === r.metadata.name) === i)
  .map((r) => ({...r, metadata: {namespace: 'service-mesh-hub', ...r.metadata}}))

const render = (result: ReturnType<typeof translate>) => stringify({clusters: result.clusters, statuses: result.statuses})

describe('translate is deterministic', () => {
  it('same input → same bytes, whatever the order of resources and cluster objects', () => {
    const first = render(translate({resources, snapshots}))
    expect(render(translate({resources, snapshots}))).toBe(first)
    const reversed = render(translate({resources: [...resources].reverse(), snapshots: {kind3: [...snapshots.kind3].reverse(), kind2: [...snapshots.kind2].reverse()}}))
    expect(reversed).toBe(first)
  })
  it('labels and annotates every object', () => {
    for (const [cluster, objects] of Object.entries(translate({resources, snapshots}).clusters)) {
      for (const o of objects) {
        expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('kubectl-smh')
        expect(o.metadata.annotations['smh.solo.io/cluster']).toBe(cluster)
        expect(o.metadata.annotations['smh.solo.io/sources']).toMatch(/^(\w+\/[\w-]+\/[\w.-]+,?)+$/)
      }
    }
  })
})

describe('naming', () => {
  it('virtual IPs are stable, in 240.0.0.0/4, and distinct', () => {
    const a = new VirtualIpAllocator()
    const ips = ['x.global', 'y.global', 'x.global'].map((h) => a.allocate(h))
    expect(ips[0]).toBe(new VirtualIpAllocator().allocate('x.global'))
    expect(new Set(ips).size).toBe(3)
    for (const ip of ips) expect(Number(ip.split('.')[0])).toBeGreaterThanOrEqual(240)
  })
  it('durations become protobuf seconds; subsets are named as Service Mesh Hub did', () => {
    expect(['2m', '500ms', '1h30m', '10s', '1.5s'].map(protoDuration)).toEqual(['120s', '0.5s', '5400s', '10s', '1.5s'])
    expect(subsetName({zone: 'a', version: 'v2'})).toBe('version-v2_zone-a')
  })
})

describe('output validation with @kubernetes-models/istio', () => {
  it('rejects a wrongly typed field and accepts a good object', async () => {
    const {destinationRule, validateIstioObject} = await import('../../../src/translate/istio.js')
    const at = {cluster: 'c', name: 'x', namespace: 'y', sources: ['TrafficPolicy/a/b']}
    expect(() => validateIstioObject(destinationRule(at, {host: 'h', trafficPolicy: {outlierDetection: {interval: 12 as unknown as string}}}))).toThrow(/interval must be string/)
    expect(() => validateIstioObject(destinationRule(at, {host: 'h', trafficPolicy: {outlierDetection: {interval: '12s'}}}))).not.toThrow()
  })
})
