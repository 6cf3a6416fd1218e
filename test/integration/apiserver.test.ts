import {AuthenticationV1Api, CoreV1Api, KubeConfig, type KubernetesObject} from '@kubernetes/client-node'
import {describe, expect, inject, it} from 'vitest'

import {ClusterClient} from '../../src/kube/client.js'
import {describeKubeError} from '../../src/kube/errors.js'
import {forContext, loadKubeconfig} from '../../src/kube/kubeconfig.js'

const kc = () => loadKubeconfig({kubeconfig: inject('kubeconfig')})

function destinationRule(name: string, outlierDetection: Record<string, unknown>): KubernetesObject & {spec: unknown} {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: {name, namespace: 'default'},
    spec: {host: 'reviews.default.svc.cluster.local', trafficPolicy: {outlierDetection}},
  }
}

describe('the local control planes: real kube-apiservers with Istio CRDs', () => {
  it('has three clusters, each a context named after it, each answering as itself', async () => {
    const config = kc()
    expect(config.getContexts().map((c) => c.name)).toEqual(inject('clusters'))
    expect(config.getCurrentContext()).toBe('kind1')
    const servers = new Set(inject('clusters').map((c) => config.getCluster(c)?.server))
    expect(servers.size).toBe(3)
  })

  it('stores a DestinationRule applied server-side with fieldValidation=Strict', async () => {
    const client = ClusterClient.forContext(kc(), 'kind2')
    const dr = destinationRule('it-reviews-outlier', {consecutive5xxErrors: 1, interval: '10s', baseEjectionTime: '2m', maxEjectionPercent: 100})
    await client.apply(dr)
    const stored = await client.objects.read<typeof dr>({apiVersion: dr.apiVersion!, kind: dr.kind!, metadata: {name: 'it-reviews-outlier', namespace: 'default'}})
    expect(stored.spec).toEqual(dr.spec)
    expect(stored.metadata?.managedFields?.map((f) => f.manager)).toContain('kubectl-smh')
    // Each cluster has its own storage: kind3 does not see kind2's object.
    const other = ClusterClient.forContext(kc(), 'kind3')
    const inKind3 = await other.objects.list('networking.istio.io/v1beta1', 'DestinationRule', 'default')
    expect(inKind3.items.map((i) => i.metadata?.name)).not.toContain('it-reviews-outlier')
  })

  it("rejects a DestinationRule whose field has the wrong type, with Istio's schema message", async () => {
    const client = ClusterClient.forContext(kc(), 'kind2')
    const bad = destinationRule('it-wrong-type', {interval: 12})
    const error = await client.apply(bad).then(() => undefined, (e: unknown) => e)
    expect(error).toBeDefined()
    const line = describeKubeError(error, 'kind2')
    expect(line).toMatch(/^cluster "kind2": rejected by the API server: /)
    expect(line).toContain('.spec.trafficPolicy.outlierDetection.interval: expected string, got 12')
    const list = await client.objects.list('networking.istio.io/v1beta1', 'DestinationRule', 'default')
    expect(list.items.map((i) => i.metadata?.name)).not.toContain('it-wrong-type')
  })

  it("rejects a value that breaks one of Istio's CEL rules, with Istio's own message", async () => {
    const client = ClusterClient.forContext(kc(), 'kind2')
    const error = await client.apply(destinationRule('it-bad-duration', {interval: '0.5ms'})).then(() => undefined, (e: unknown) => e)
    const line = describeKubeError(error, 'kind2')
    expect(line).toMatch(/^cluster "kind2": rejected by the API server: /)
    expect(line).toContain('must be a valid duration greater than 1ms')
  })

  it('rejects an unknown field under Strict validation instead of silently dropping it', async () => {
    const client = ClusterClient.forContext(kc(), 'kind2')
    const bad = destinationRule('it-unknown-field', {consecutive5xxErrors: 1, notAField: true})
    const error = await client.apply(bad).then(() => undefined, (e: unknown) => e)
    expect(describeKubeError(error, 'kind2')).toContain(".spec.trafficPolicy.outlierDetection.notAField: field not declared in schema")
  })

  it('issues ServiceAccount tokens (TokenRequest) that authenticate against their own cluster only', async () => {
    const config = kc()
    const core = forContext(config, 'kind2').makeApiClient(CoreV1Api)
    const name = `it-sa-${Date.now()}`
    await core.createNamespacedServiceAccount({namespace: 'default', body: {metadata: {name}}})
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name, namespace: 'default', body: {spec: {audiences: ['https://kubernetes.default.svc'], expirationSeconds: 600}},
    })
    const token = tokenRequest.status!.token
    const asServiceAccount = (cluster: string) => {
      const k = new KubeConfig()
      k.loadFromOptions({
        clusters: [config.getCluster(cluster)!],
        users: [{name: 'sa', token}],
        contexts: [{name: cluster, cluster, user: 'sa'}],
        currentContext: cluster,
      })
      return k.makeApiClient(AuthenticationV1Api)
    }
    const review = await asServiceAccount('kind2').createSelfSubjectReview({body: {}})
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:default:${name}`)
    // kind3 has another issuer: the same token is refused there.
    const refused = await asServiceAccount('kind3').createSelfSubjectReview({body: {}}).then(() => undefined, (e: unknown) => e)
    expect(describeKubeError(refused, 'kind3')).toContain('401 Unauthorized')
  })

  it('has the blog seed: bookinfo with sidecars in kind2 (no reviews-v3) and kind3 (with it), kind1 empty', async () => {
    const config = kc()
    const deployments = async (cluster: string) => {
      const list = await ClusterClient.forContext(config, cluster).objects.list('apps/v1', 'Deployment', 'default')
      return list.items.map((d) => d.metadata?.name).sort()
    }
    expect(await deployments('kind1')).toEqual([])
    expect(await deployments('kind2')).toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2'])
    expect(await deployments('kind3')).toEqual(['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'])
    const pods = await forContext(config, 'kind2').makeApiClient(CoreV1Api).listNamespacedPod({namespace: 'default'})
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe('Running')
      expect(pod.spec?.containers.map((c) => c.name)).toContain('istio-proxy')
      expect(pod.metadata?.ownerReferences?.[0]?.uid).toBeTruthy()
    }
    const gateway = await forContext(config, 'kind3').makeApiClient(CoreV1Api).readNamespacedService({namespace: 'istio-system', name: 'istio-ingressgateway'})
    expect(gateway.spec?.type).toBe('LoadBalancer')
    expect(gateway.spec?.ports?.find((p) => p.name === 'tls')?.port).toBe(15443)
    expect(gateway.status?.loadBalancer?.ingress?.[0]?.ip).toBeTruthy()
  })
})
