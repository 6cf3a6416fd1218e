import {createHash} from 'node:crypto'

import type {KubernetesObject} from '@kubernetes/client-node'

/**
 * The clusters of the seed's blog post, as objects: Istio's control plane (istiod, the `istio` mesh ConfigMap, an
 * ingress gateway with a `tls` port 15443 and a LoadBalancer address) and bookinfo with sidecars. There is no
 * kubelet or controller, so ReplicaSets and Pods are written here too, and their status set separately.
 */
export const ISTIO_VERSION = '1.30.3'
const PILOT_IMAGE = `docker.io/istio/pilot:${ISTIO_VERSION}`
const PROXY_IMAGE = `docker.io/istio/proxyv2:${ISTIO_VERSION}`

export interface SeedObject extends KubernetesObject {
  spec?: Record<string, unknown>
  /** Status to set through the status subresource once the object exists. */
  status?: Record<string, unknown>
  data?: Record<string, string>
}

interface Workload {
  namespace: string
  name: string // Deployment name
  labels: Record<string, string>
  serviceAccount: string
  containers: {name: string; image: string; ports?: number[]; env?: {name: string; value: string}[]}[]
  /** Pods get an injected istio-proxy sidecar (bookinfo); Istio's own pods have none. */
  sidecar: boolean
}

export interface SeedOptions {
  cluster: string
  /** bookinfo's reviews-v3 (red stars): the blog deploys it in kind3 only. */
  withReviewsV3: boolean
  /** Ordinal of the cluster (kind2 is 2), to keep pod IPs and gateway addresses distinct across clusters. */
  index: number
}

/** Everything to create in one workload cluster, in dependency order (namespaces first). */
export function seedObjects(options: SeedOptions): SeedObject[] {
  const {cluster, index} = options
  // The load balancer's address: in the cluster's own range (pods are 10.<244+index>.x.y), off the host's network
  // (these machines' eth0 is 192.0.2.0/24), so the data plane can give it to the gateway's network namespace.
  const gatewayAddress = gatewayAddressOf(index)
  const objects: SeedObject[] = [
    namespace('istio-system'),
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default', labels: {'istio-injection': 'enabled'}}},
    serviceAccount('istio-system', 'istiod'),
    serviceAccount('istio-system', 'istio-ingressgateway-service-account'),
    {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: {namespace: 'istio-system', name: 'istio', labels: {'istio.io/rev': 'default'}},
      data: {mesh: `defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ntrustDomain: ${cluster}\n`, meshNetworks: 'networks: {}\n'},
    },
    service('istio-system', 'istiod', {app: 'istiod', istio: 'pilot'}, [
      {name: 'grpc-xds', port: 15010}, {name: 'https-dns', port: 15012}, {name: 'https-webhook', port: 443, targetPort: 15017},
    ]),
    {
      ...service('istio-system', 'istio-ingressgateway', {app: 'istio-ingressgateway', istio: 'ingressgateway'}, [
        {name: 'status-port', port: 15021, nodePort: 31021}, {name: 'http2', port: 80, targetPort: 8080, nodePort: 31080},
        {name: 'https', port: 443, targetPort: 8443, nodePort: 31443}, {name: 'tls', port: 15443, nodePort: 32443},
      ], 'LoadBalancer'),
      status: {loadBalancer: {ingress: [{ip: gatewayAddress}]}},
    },
  ]
  const workloads: Workload[] = [
    {namespace: 'istio-system', name: 'istiod', labels: {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}, serviceAccount: 'istiod',
      // As the seed's cluster setup ran istiod (notes/trust.md §4): sidecars accept peers of any trust domain.
      containers: [{name: 'discovery', image: PILOT_IMAGE, ports: [8080, 15010, 15017], env: [{name: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN', value: 'true'}]}], sidecar: false},
    {namespace: 'istio-system', name: 'istio-ingressgateway', labels: {app: 'istio-ingressgateway', istio: 'ingressgateway'},
      serviceAccount: 'istio-ingressgateway-service-account', containers: [{name: 'istio-proxy', image: PROXY_IMAGE, ports: [8080, 8443, 15443]}], sidecar: false},
  ]
  const apps = [['details', 'v1'], ['ratings', 'v1'], ['reviews', 'v1'], ['reviews', 'v2'], ['productpage', 'v1']]
  if (options.withReviewsV3) apps.splice(4, 0, ['reviews', 'v3'])
  for (const app of ['details', 'ratings', 'reviews', 'productpage']) {
    objects.push(serviceAccount('default', `bookinfo-${app}`, {account: app}))
    objects.push(service('default', app, {app}, [{name: 'http', port: 9080}], 'ClusterIP', {app, service: app}))
  }
  for (const [app, version] of apps) {
    workloads.push({
      namespace: 'default', name: `${app}-${version}`, labels: {app, version}, serviceAccount: `bookinfo-${app}`,
      containers: [{name: app, image: `docker.io/istio/examples-bookinfo-${app}-${version}:1.20.2`, ports: [9080]}],
      sidecar: true,
    })
  }
  const hostIP = `198.51.100.${index}` // TEST-NET-2, the cluster's one "node"
  workloads.forEach((w, i) => objects.push(...deployment(cluster, w, podAddressOf(index, i), hostIP)))
  // Fixed ClusterIPs (inside the API servers' 10.96.0.0/16), so a snapshot of this seed is what a live cluster shows.
  objects.filter((o) => o.kind === 'Service').forEach((o, i) => (o.spec!.clusterIP = `10.96.${index}.${10 + i}`))
  return objects
}

/** The seed's addresses per cluster ordinal: 10.<244+index>.0.0/16, a range these machines neither own nor route. */
export function clusterRangeOf(index: number): string {
  return `10.${244 + index}.0.0/16`
}

/** Pod i of the cluster (in seed order). */
export function podAddressOf(index: number, i: number): string {
  return `10.${244 + index}.${i + 1}.${10 + index}`
}

/** The ingress gateway Service's load-balancer address. */
export function gatewayAddressOf(index: number): string {
  return `10.${244 + index}.255.1`
}

function namespace(name: string): SeedObject {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name}}
}

function serviceAccount(namespace: string, name: string, labels?: Record<string, string>): SeedObject {
  return {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {namespace, name, ...(labels ? {labels} : {})}}
}

function service(
  namespace: string, name: string, selector: Record<string, string>,
  ports: {name: string; port: number; targetPort?: number; nodePort?: number}[], type = 'ClusterIP', labels: Record<string, string> = selector,
): SeedObject {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: {namespace, name, labels},
    spec: {type, selector, ports: ports.map((p) => ({name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: 'TCP', ...(p.nodePort ? {nodePort: p.nodePort} : {})}))},
  }
}

/** A Deployment, its ReplicaSet and one Running, Ready Pod, linked by ownerReferences as a controller would. */
function deployment(cluster: string, w: Workload, podIP: string, hostIP: string): SeedObject[] {
  const hash = createHash('sha256').update(`${cluster}/${w.namespace}/${w.name}`).digest('hex')
  const templateHash = hash.slice(0, 10).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)])
  const podSuffix = hash.slice(10, 15).replace(/[0-9]/g, (d) => 'npqrstvwxz'[Number(d)])
  const template = {
    metadata: {labels: w.sidecar
      ? {...w.labels, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': w.labels.app, 'service.istio.io/canonical-revision': w.labels.version ?? 'latest'}
      : w.labels},
    spec: {
      serviceAccountName: w.serviceAccount,
      containers: w.containers.map((c) => ({name: c.name, image: c.image, ...(c.ports ? {ports: c.ports.map((p) => ({containerPort: p}))} : {}), ...(c.env ? {env: c.env} : {})})),
    },
  }
  // Istio's injector adds the sidecar to Pods as they are created, not to the Deployment's template.
  const podSpec = w.sidecar
    ? {...template.spec, containers: [...template.spec.containers, {name: 'istio-proxy', image: PROXY_IMAGE, args: ['proxy', 'sidecar']}]}
    : template.spec
  const selector = {matchLabels: w.labels}
  const ready = {replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: 1}
  const podLabels = {...template.metadata.labels, 'pod-template-hash': templateHash}
  return [
    {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {namespace: w.namespace, name: w.name, labels: w.labels},
      spec: {replicas: 1, selector, template}, status: ready},
    {apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {namespace: w.namespace, name: `${w.name}-${templateHash}`, labels: podLabels,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: '', controller: true, blockOwnerDeletion: true}]},
      spec: {replicas: 1, selector: {matchLabels: {...w.labels, 'pod-template-hash': templateHash}}, template: {...template, metadata: {labels: podLabels}}},
      status: {replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1}},
    {apiVersion: 'v1', kind: 'Pod', metadata: {namespace: w.namespace, name: `${w.name}-${templateHash}-${podSuffix}`, labels: podLabels,
      ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${w.name}-${templateHash}`, uid: '', controller: true, blockOwnerDeletion: true}]},
      spec: podSpec,
      status: {
        phase: 'Running', podIP, podIPs: [{ip: podIP}], hostIP, startTime: '2026-01-01T00:00:00Z',
        conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({type, status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z'})),
        containerStatuses: podSpec.containers.map((c) => ({
          name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0,
          state: {running: {startedAt: '2026-01-01T00:00:00Z'}},
        })),
      }},
  ]
}
