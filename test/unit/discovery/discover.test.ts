import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {discoverCluster} from '../../../src/discovery/index.js'
import type {KubeObject} from '../../../src/discovery/index.js'
import {FIXTURE_SNAPSHOTS, GOLDEN_DIR, snapshotObjects} from '../../support/golden.js'

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
      expect.objectContaining({serviceName: 'istio-ingressgateway', externalAddress: '10.247.255.1', externalTlsPort: 15443, tlsContainerPort: 15443, workloadLabels: {app: 'istio-ingressgateway', istio: 'ingressgateway'}}),
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
  it("reads trustDomainAliases from the mesh config and PILOT_SKIP_VALIDATE_TRUST_DOMAIN from istiod's env (the seed's istiod skips)", () => {
    expect(kind3.meshes[0]).toMatchObject({trustDomainAliases: [], skipTrustDomainValidation: true})
    const edited = snapshot('kind3').map((o) => {
      if (o.kind === 'ConfigMap' && o.metadata.name === 'istio') return {...o, data: {...o.data, mesh: `${o.data!.mesh}trustDomainAliases: [kind2, "old.example"]\n`}}
      if (o.kind === 'Deployment' && o.metadata.name === 'istiod') {
        const containers = o.spec.template.spec.containers.map((c: {env?: unknown}) => ({...c, env: [{name: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN', value: 'false'}]}))
        return {...o, spec: {...o.spec, template: {...o.spec.template, spec: {...o.spec.template.spec, containers}}}}
      }
      return o
    })
    expect(discoverCluster('kind3', edited).meshes[0]).toMatchObject({trustDomain: 'kind3', trustDomainAliases: ['kind2', 'old.example'], skipTrustDomainValidation: false})
    // Go's strconv.ParseBool spellings count, as Istio reads them.
    for (const [value, skips] of [['1', true], ['True', true], ['yes', false], ['', false]] as const) {
      const objects = edited.map((o) => (o.kind === 'Deployment' && o.metadata.name === 'istiod'
        ? {...o, spec: {...o.spec, template: {...o.spec.template, spec: {...o.spec.template.spec, containers: o.spec.template.spec.containers.map((c: object) => ({...c, env: [{name: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN', value}]}))}}}}
        : o))
      expect({value, skips: discoverCluster('kind3', objects).meshes[0].skipTrustDomainValidation}).toEqual({value, skips})
    }
    const noMeshConfig = snapshot('kind3').filter((o) => o.kind !== 'ConfigMap')
    expect(discoverCluster('kind3', noMeshConfig).meshes[0].trustDomainAliases).toEqual([])
  })
})

const goldenSnapshot = (name: string) => snapshotObjects(join(GOLDEN_DIR, name, 'kind2.yaml'))
/** A pod with a sidecar in namespace shop, owned as given (nothing: a bare pod). */
const meshPod = (name: string, labels: Record<string, string>, owner?: {apiVersion: string; kind: string; name: string}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {name, namespace: 'shop', labels, ...(owner ? {ownerReferences: [{...owner, controller: true}]} : {})},
  spec: {serviceAccountName: 'shop', containers: [{name: 'app', image: 'example/app:1'}, {name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3'}]},
})
const shopService: KubeObject = {apiVersion: 'v1', kind: 'Service', metadata: {name: 'shop', namespace: 'shop'}, spec: {selector: {app: 'shop'}, ports: [{name: 'http', port: 80}]}}
const istiodOnly = () => snapshot('kind2').filter((o) => o.metadata.namespace === 'istio-system' && o.kind !== 'Pod')

describe('discovery of workloads, whoever owns the pods (as Istio sees them)', () => {
  it('follows pod → ReplicaSet → Argo Rollout through the ReplicaSets\' ownerReferences', async () => {
    const found = discoverCluster('kind2', await goldenSnapshot('discovery-argo-rollout'))
    expect(found.workloads).toEqual([
      {
        name: 'checkout-shop-kind2-rollout', cluster: 'kind2', namespace: 'shop', controllerKind: 'Rollout', controllerName: 'checkout',
        // What both ReplicaSets' pods share: not the per-ReplicaSet rollouts-pod-template-hash.
        podLabels: {app: 'checkout', 'security.istio.io/tlsMode': 'istio'}, serviceAccountName: 'checkout', mesh: 'istiod-istio-system-kind2',
      },
    ])
    // Argo's canary Service pins one ReplicaSet's hash: it selects the Rollout's canary pod, so it is in the mesh too.
    expect(found.services.map((s) => [s.serviceName, s.workloads, s.subsets])).toEqual([
      ['checkout', ['checkout-shop-kind2-rollout'], {}],
      ['checkout-canary', ['checkout-shop-kind2-rollout'], {}],
    ])
  })

  it('makes each Job a workload (kind Job), and the labels the Job controller stamps are no subsets', async () => {
    const found = discoverCluster('kind2', await goldenSnapshot('discovery-job'))
    expect(found.workloads.map((w) => [w.name, w.controllerKind, w.serviceAccountName])).toEqual([
      ['nightly-report-29123460-batch-kind2-job', 'Job', 'report-worker'],
      ['nightly-report-29124900-batch-kind2-job', 'Job', 'report-worker'],
    ])
    expect(found.services).toEqual([expect.objectContaining({name: 'report-worker-batch-kind2', subsets: {}, workloads: found.workloads.map((w) => w.name)})])
  })

  it('makes each bare pod a workload (kind Pod) whose labels are its own', async () => {
    const found = discoverCluster('kind2', await goldenSnapshot('discovery-bare-pods'))
    expect(found.workloads.map((w) => [w.name, w.controllerKind, w.controllerName, w.podLabels.version, w.serviceAccountName])).toEqual([
      ['billing-v1-legacy-kind2-pod', 'Pod', 'billing-v1', 'v1', 'billing'],
      ['billing-v2-legacy-kind2-pod', 'Pod', 'billing-v2', 'v2', 'billing'],
    ])
    expect(found.services).toEqual([expect.objectContaining({name: 'billing-legacy-kind2', subsets: {version: ['v1', 'v2']}})])
  })

  it('reads the ReplicaSet\'s owner, not its name: a ReplicaSet named unlike its Deployment still belongs to it', () => {
    const renamed = snapshot('kind2').map((o) => {
      if (o.kind === 'ReplicaSet' && o.metadata.name.startsWith('reviews-v1-')) return {...o, metadata: {...o.metadata, name: 'rs-one'}}
      const owner = o.metadata.ownerReferences?.[0]
      if (o.kind === 'Pod' && owner?.name.startsWith('reviews-v1-')) return {...o, metadata: {...o.metadata, ownerReferences: [{...owner, name: 'rs-one'}]}}
      return o
    })
    expect(discoverCluster('kind2', renamed)).toEqual(discoverCluster('kind2', snapshot('kind2')))
  })

  it('still reads snapshots made without ReplicaSets, guessing <deployment>-<hash> from the name as before', () => {
    const old = snapshot('kind2').filter((o) => o.kind !== 'ReplicaSet')
    const found = discoverCluster('kind2', old)
    expect(found).toEqual(discoverCluster('kind2', snapshot('kind2')))
    expect(found.workloads.map((w) => w.controllerKind)).toEqual(found.workloads.map(() => 'Deployment'))
  })

  it('names any other owner after its kind: a ReplicaSet nobody owns, an OpenKruise CloneSet', () => {
    const objects = [
      ...istiodOnly(),
      shopService,
      {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: 'shop-legacy', namespace: 'shop'}, spec: {}},
      meshPod('shop-legacy-abcde', {app: 'shop', version: 'v1'}, {apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-legacy'}),
      meshPod('shop-v2-fghij', {app: 'shop', version: 'v2'}, {apiVersion: 'apps.kruise.io/v1alpha1', kind: 'CloneSet', name: 'shop-v2'}),
    ]
    const found = discoverCluster('kind2', objects)
    expect(found.workloads.map((w) => [w.name, w.controllerKind])).toEqual([
      ['shop-v2-shop-kind2-cloneset', 'CloneSet'],
      ['shop-legacy-shop-kind2-replicaset', 'ReplicaSet'],
    ])
    expect(found.services[0].subsets).toEqual({version: ['v1', 'v2']})
  })

  it('counts a native sidecar (istio-proxy as an init container), and no pod without a sidecar', () => {
    const native = meshPod('native', {app: 'shop'})
    native.spec = {containers: [{name: 'app', image: 'example/app:1'}], initContainers: [{name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3', restartPolicy: 'Always'}]}
    const plain = meshPod('plain', {app: 'plain'})
    plain.spec = {containers: [{name: 'app', image: 'example/app:1'}]}
    const found = discoverCluster('kind2', [...istiodOnly(), shopService, native, plain])
    expect(found.workloads.map((w) => w.name)).toEqual(['native-shop-kind2-pod'])
    expect(found.services.map((s) => s.name)).toEqual(['shop-shop-kind2'])
  })

  it('counts a Deployment whose template carries the sidecar before it has pods', () => {
    const deployment: KubeObject = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'shop', namespace: 'shop'},
      spec: {selector: {matchLabels: {app: 'shop'}}, template: {metadata: {labels: {app: 'shop'}}, spec: {serviceAccountName: 'shop', containers: [{name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.30.3'}]}}},
    }
    expect(discoverCluster('kind2', [...istiodOnly(), shopService, deployment]).workloads).toEqual([expect.objectContaining({name: 'shop-shop-kind2-deployment', serviceAccountName: 'shop'})])
  })
})
