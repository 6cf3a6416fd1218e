import {describe, expect, it} from 'vitest'

import type {SmhResource} from '../../../src/api/types.js'
import {resourcesDependingOn} from '../../../src/translate/dependencies.js'

const tp = (name: string, spec: Record<string, unknown>) => ({apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'TrafficPolicy', metadata: {name, namespace: 'service-mesh-hub'}, spec}) as SmhResource
const refs = (...clusters: string[]) => [{kubeServiceRefs: {services: clusters.map((clusterName) => ({name: 'reviews', namespace: 'default', clusterName}))}}]

describe('which resources depend on a cluster (held back while it cannot be read)', () => {
  const resources: SmhResource[] = [
    tp('kind2-only', {destinationSelector: refs('kind2'), requestTimeout: '1s'}),
    tp('both', {destinationSelector: refs('kind2', 'kind3'), outlierDetection: {consecutiveErrors: 1}}),
    tp('everything', {requestTimeout: '1s'}),
    tp('matcher', {destinationSelector: [{kubeServiceMatcher: {labels: {app: 'reviews'}}}], requestTimeout: '1s'}),
    tp('matcher-kind2', {destinationSelector: [{kubeServiceMatcher: {labels: {app: 'reviews'}, clusters: ['kind2']}}], requestTimeout: '1s'}),
    {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'FailoverService', metadata: {name: 'fs', namespace: 'service-mesh-hub'},
      spec: {hostname: 'r.global', port: {number: 9080}, meshes: [{name: 'istiod-istio-system-kind2'}], backingServices: refs('kind2', 'kind3')[0].kubeServiceRefs.services.map((kubeService) => ({kubeService}))}} as SmhResource,
    tp('shift', {destinationSelector: refs('kind2'), trafficShift: {destinations: [{failoverServiceRef: {name: 'fs', namespace: 'service-mesh-hub'}}]}}),
    {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'VirtualMesh', metadata: {name: 'vm', namespace: 'service-mesh-hub'},
      spec: {meshes: [{name: 'istiod-istio-system-kind2'}, {name: 'istiod-istio-system-kind3'}]}} as SmhResource,
  ]

  it('holds exactly what names, selects in, or federates with the failed cluster', () => {
    const held = resourcesDependingOn(resources, new Set(['kind3']), ['istiod-istio-system-kind2'])
    expect([...held.keys()].sort()).toEqual([
      'FailoverService/service-mesh-hub/fs', 'TrafficPolicy/service-mesh-hub/both', 'TrafficPolicy/service-mesh-hub/everything',
      'TrafficPolicy/service-mesh-hub/matcher', 'TrafficPolicy/service-mesh-hub/shift', 'VirtualMesh/service-mesh-hub/vm',
    ])
    expect([...held.get('VirtualMesh/service-mesh-hub/vm')!]).toEqual(['kind3'])
  })

  it('holds nothing when every cluster answered', () => {
    expect(resourcesDependingOn(resources, new Set(), ['istiod-istio-system-kind2', 'istiod-istio-system-kind3']).size).toBe(0)
  })
})
