import {describe, expect, it} from 'vitest'

import type {SmhResource} from '../../../src/api/types.js'
import {discoverCluster} from '../../../src/discovery/discover.js'
import {choicesFrom} from '../../../src/services/choices.js'
import {FIXTURE_SNAPSHOTS, snapshotObjects} from '../../support/golden.js'

const seedDiscovery = () => Promise.all(['kind2', 'kind3'].map(async (c) => discoverCluster(c, await snapshotObjects(`${FIXTURE_SNAPSHOTS}/${c}.yaml`) as never)))

const virtualMesh = (name: string, meshes: string[]): SmhResource => ({
  apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'VirtualMesh', metadata: {name, namespace: 'service-mesh-hub'},
  spec: {meshes: meshes.map((m) => ({name: m, namespace: 'service-mesh-hub'}))},
})

const failover: SmhResource = {
  apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'FailoverService', metadata: {name: 'reviews-failover', namespace: 'service-mesh-hub'},
  spec: {
    hostname: 'reviews-failover.default.global', port: {number: 9080, protocol: 'http'}, meshes: [{name: 'istiod-istio-system-kind2'}],
    backingServices: [{kubeService: {name: 'reviews', namespace: 'default', clusterName: 'kind2'}}, {kubeService: {name: 'reviews', namespace: 'default', clusterName: 'kind3'}}],
  },
}

describe('what a wizard offers (choicesFrom)', () => {
  it('lists the seed clusters\' meshes with trust domains, services with ports and subsets, service accounts', async () => {
    const choices = choicesFrom(await seedDiscovery(), [])
    expect(choices.clusters).toEqual([{name: 'kind2', reachable: true}, {name: 'kind3', reachable: true}])
    expect(choices.meshes).toEqual([
      {name: 'istiod-istio-system-kind2', cluster: 'kind2', trustDomain: 'kind2', namespace: 'istio-system'},
      {name: 'istiod-istio-system-kind3', cluster: 'kind3', trustDomain: 'kind3', namespace: 'istio-system'},
    ])
    expect(choices.services.map((s) => s.ref)).toEqual([
      'kind2/default/details', 'kind2/default/productpage', 'kind2/default/ratings', 'kind2/default/reviews',
      'kind3/default/details', 'kind3/default/productpage', 'kind3/default/ratings', 'kind3/default/reviews',
    ])
    const reviews3 = choices.services.find((s) => s.ref === 'kind3/default/reviews')!
    expect(reviews3).toEqual({
      ref: 'kind3/default/reviews', name: 'reviews-default-kind3', cluster: 'kind3', namespace: 'default', serviceName: 'reviews',
      mesh: 'istiod-istio-system-kind3', ports: [{port: 9080, protocol: 'http', name: 'http'}], subsets: {version: ['v1', 'v2', 'v3']},
    })
    expect(choices.services.find((s) => s.ref === 'kind2/default/reviews')!.subsets).toEqual({version: ['v1', 'v2']})
    expect(choices.services.find((s) => s.ref === 'kind2/default/ratings')!.subsets).toEqual({})
    expect(choices.serviceAccounts.map((a) => a.ref)).toEqual([
      'kind2/default/bookinfo-details', 'kind2/default/bookinfo-productpage', 'kind2/default/bookinfo-ratings', 'kind2/default/bookinfo-reviews',
      'kind3/default/bookinfo-details', 'kind3/default/bookinfo-productpage', 'kind3/default/bookinfo-ratings', 'kind3/default/bookinfo-reviews',
    ])
    expect(choices.serviceAccounts[0]).toMatchObject({cluster: 'kind2', namespace: 'default', name: 'bookinfo-details', mesh: 'istiod-istio-system-kind2'})
    expect(choices.failoverServices).toEqual([])
    expect(choices.virtualMeshes).toEqual([])
  })

  it('marks meshes a VirtualMesh already holds, and lists FailoverServices with their backing order', async () => {
    const choices = choicesFrom(await seedDiscovery(), [virtualMesh('vm-a', ['istiod-istio-system-kind3']), failover])
    expect(choices.meshes.map((m) => [m.name, m.virtualMesh])).toEqual([
      ['istiod-istio-system-kind2', undefined],
      ['istiod-istio-system-kind3', 'service-mesh-hub/vm-a'],
    ])
    expect(choices.virtualMeshes).toEqual([{name: 'vm-a', namespace: 'service-mesh-hub', meshes: ['istiod-istio-system-kind3']}])
    expect(choices.failoverServices).toEqual([{
      name: 'reviews-failover', namespace: 'service-mesh-hub', hostname: 'reviews-failover.default.global', port: '9080/http',
      backing: ['kind2/default/reviews', 'kind3/default/reviews'],
    }])
  })

  it('names the registered clusters discovery could not read, with why', async () => {
    const [kind2] = await seedDiscovery()
    const choices = choicesFrom([kind2], [], new Map([['kind3', 'connect ECONNREFUSED 127.0.0.1:6443']]))
    expect(choices.clusters).toEqual([{name: 'kind2', reachable: true}, {name: 'kind3', reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:6443'}])
    expect(choices.services.every((s) => s.cluster === 'kind2')).toBe(true)
  })

  it('gives each port Istio\'s protocol and leaves UDP ports out', async () => {
    const [kind2] = await seedDiscovery()
    const reviews = kind2.services.find((s) => s.serviceName === 'reviews')!
    const altered = {...kind2, services: [{...reviews, ports: [
      {name: 'grpc-api', port: 7070, protocol: 'TCP'}, {port: 8443, protocol: 'TCP', appProtocol: 'https'}, {name: 'dns', port: 53, protocol: 'UDP'}, {name: 'metrics', port: 9090, protocol: 'TCP'},
    ]}]}
    expect(choicesFrom([altered], []).services[0].ports).toEqual([
      {port: 7070, protocol: 'grpc', name: 'grpc-api'}, {port: 8443, protocol: 'https'}, {port: 9090, protocol: 'tcp', name: 'metrics'},
    ])
  })
})
