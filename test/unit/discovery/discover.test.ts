import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {discoverCluster} from '../../../src/discovery/index.js'
import type {KubeObject} from '../../../src/discovery/index.js'
import {FIXTURE_SNAPSHOTS, snapshotObjects} from '../../support/golden.js'

const fixtures = {
  kind2: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind2.yaml')),
  kind3: await snapshotObjects(join(FIXTURE_SNAPSHOTS, 'kind3.yaml')),
}
/** A fresh copy each time: tests change what they read. */
const snapshot = (cluster: 'kind2' | 'kind3'): KubeObject[] => structuredClone(fixtures[cluster])

describe('discovery from a cluster snapshot', () => {
  const kind3 = discoverCluster('kind3', snapshot('kind3'))
  it('finds istiod as a mesh named like Service Mesh Hub, with version, trust domain and the tls gateway', () => {
    expect(kind3.meshes).toHaveLength(1)
    const mesh = kind3.meshes[0]
    expect(mesh).toMatchObject({name: 'istiod-istio-system-kind3', installationNamespace: 'istio-system', version: '1.30.3', trustDomain: 'kind3', revision: 'default'})
    expect(mesh.gateways).toEqual([
      expect.objectContaining({serviceName: 'istio-ingressgateway', externalAddress: '192.0.2.3', externalTlsPort: 15443, tlsContainerPort: 15443, workloadLabels: {app: 'istio-ingressgateway', istio: 'ingressgateway'}}),
    ])
  })
  it('finds sidecar workloads (not istiod or the gateway) and the services they back, with version subsets', () => {
    expect(kind3.workloads.map((w) => w.name)).toContain('reviews-v3-default-kind3-deployment')
    expect(kind3.workloads.some((w) => w.namespace === 'istio-system')).toBe(false)
    expect(kind3.services.map((s) => s.name).sort()).toEqual(['details-default-kind3', 'productpage-default-kind3', 'ratings-default-kind3', 'reviews-default-kind3'])
    const reviews = kind3.services.find((s) => s.serviceName === 'reviews')!
    expect(reviews.subsets).toEqual({version: ['v1', 'v2', 'v3']})
    expect(reviews.ports).toEqual([{name: 'http', port: 9080, protocol: 'TCP', targetPort: 9080}])
    expect(kind3.services.find((s) => s.serviceName === 'ratings')!.subsets).toEqual({})
  })
  it('uses the NodePort and a gateway pod\'s host IP when the LoadBalancer has no address', () => {
    const objects = snapshot('kind2').map((o) =>
      o.kind === 'Service' && o.metadata.name === 'istio-ingressgateway' ? {...o, spec: {...o.spec, type: 'NodePort'}, status: {}} : o,
    )
    const gateway = discoverCluster('kind2', objects).meshes[0].gateways[0]
    expect(gateway).toMatchObject({externalAddress: '198.51.100.2', externalTlsPort: 32443, tlsContainerPort: 15443})
  })
  it('finds no mesh and no services without istiod, and no workload without a sidecar', () => {
    const objects = snapshot('kind2').filter((o) => !(o.kind === 'Deployment' && o.metadata.name === 'istiod'))
    expect(discoverCluster('kind2', objects)).toMatchObject({meshes: [], workloads: [], services: []})
    const noSidecars = snapshot('kind2').map((o) => (o.kind === 'Pod' ? {...o, spec: {...o.spec, containers: o.spec.containers.filter((c: {name: string}) => c.name !== 'istio-proxy')}} : o))
    expect(discoverCluster('kind2', noSidecars).services).toEqual([])
  })
  it('reads the trust domain from the istio ConfigMap, default cluster.local', () => {
    const objects = snapshot('kind2').filter((o) => o.kind !== 'ConfigMap')
    expect(discoverCluster('kind2', objects).meshes[0].trustDomain).toBe('cluster.local')
  })
})
