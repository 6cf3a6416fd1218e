import {describe, expect, it} from 'vitest'

import {canonical, ownedContentEquals, planCluster} from '../../../src/kube/plan.js'

const dr = (interval: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule',
  metadata: {name: 'reviews', namespace: 'default', labels: {'app.kubernetes.io/managed-by': 'kubectl-smh'}, annotations: {'smh.solo.io/cluster': 'kind2'}},
  spec: {host: 'reviews.default.svc.cluster.local', trafficPolicy: {outlierDetection: {interval, ...extra}}},
})
/** What the API server records for an apply of dr(): kubectl-smh owns labels, annotations and every spec field it sent. */
const ours = {manager: 'kubectl-smh', operation: 'Apply', fieldsV1: {
  'f:metadata': {'f:labels': {'f:app.kubernetes.io/managed-by': {}}, 'f:annotations': {'f:smh.solo.io/cluster': {}}},
  'f:spec': {'f:host': {}, 'f:trafficPolicy': {'f:outlierDetection': {'f:interval': {}}}},
}}
const stored = (object: ReturnType<typeof dr>, managedFields: unknown[] = [ours]) => ({...object, metadata: {...object.metadata, resourceVersion: '7', managedFields}})

describe('plan: desired against what a cluster holds', () => {
  it('creates what is missing, prunes what is no longer wanted, leaves equal objects alone', () => {
    const other = {...dr('10s'), metadata: {...dr('10s').metadata, name: 'ratings'}}
    const plan = planCluster([dr('10s')], [stored(dr('10s')), stored(other)])
    expect(plan.map((e) => [e.action, e.key])).toEqual([['unchanged', 'DestinationRule/default/reviews'], ['prune', 'DestinationRule/default/ratings']])
    expect(planCluster([dr('10s')], []).map((e) => e.action)).toEqual(['create'])
  })

  it('updates when a field we own differs, or when we stop setting one', () => {
    expect(planCluster([dr('10s')], [stored(dr('30s'))])[0].action).toBe('update')
    const withMore = stored(dr('10s', {baseEjectionTime: '2m'}), [{...ours, fieldsV1: {...ours.fieldsV1, 'f:spec': {'f:host': {}, 'f:trafficPolicy': {'f:outlierDetection': {'f:interval': {}, 'f:baseEjectionTime': {}}}}}}])
    expect(planCluster([dr('10s')], [withMore])[0].action).toBe('update')
  })

  it('ignores fields another manager added beside ours: applying would change nothing we own', () => {
    const added = stored(dr('10s', {maxEjectionPercent: 50}))
    expect(ownedContentEquals(dr('10s'), added)).toBe(true)
  })

  it('compares the whole object when we own nothing of it (someone else wrote it)', () => {
    expect(ownedContentEquals(dr('10s'), stored(dr('10s', {maxEjectionPercent: 50}), []))).toBe(false)
    expect(ownedContentEquals(dr('10s'), stored(dr('10s'), []))).toBe(true)
  })

  it('canonical JSON does not depend on key order', () => {
    expect(canonical({a: 1, b: {d: 2, c: 3}})).toBe(canonical({b: {c: 3, d: 2}, a: 1}))
  })
})
