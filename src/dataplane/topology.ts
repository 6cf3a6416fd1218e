/**
 * What the data plane makes real, read from the clusters through the admin kubeconfig: every pod with an Istio
 * sidecar (its `status.podIP`, container ports, service account, labels) and every ingress gateway pod (its pod IP
 * and the addresses its Services publish), and the Services (VIPs, ports, the pods behind them) for configs.
 */
import {CoreV1Api, type KubeConfig, type V1Pod} from '@kubernetes/client-node'

import {kubeError} from '../kube/errors.js'
import {forContext} from '../kube/kubeconfig.js'
import {podNetworkNames} from './netns.js'

export interface DataPlanePod {
  cluster: string
  namespace: string
  name: string
  /** The Deployment it belongs to (its ReplicaSet's owner, by name). */
  deployment: string
  app: string
  version: string
  serviceAccount: string
  labels: Record<string, string>
  kind: 'sidecar' | 'gateway'
  /** Its pod IP first; a gateway also has its Services' load-balancer addresses. */
  addresses: string[]
  /** The app's container ports (a sidecar's app listens on them; a gateway's Envoy does). */
  ports: number[]
  netns: string
  hostLink: string
}

export interface DataPlaneService {
  cluster: string
  namespace: string
  name: string
  vip?: string
  selector: Record<string, string>
  ports: {name?: string; port: number; targetPort: number}[]
  /** Pod IPs of the data plane's pods it selects. */
  endpoints: string[]
  loadBalancer: string[]
}

export interface Topology {
  pods: DataPlanePod[]
  services: DataPlaneService[]
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v)

function isGateway(pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {}
  return labels.istio === 'ingressgateway' || labels.istio === 'eastwestgateway'
}

function hasSidecar(pod: V1Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.name === 'istio-proxy') && !isGateway(pod)
}

function deploymentOf(pod: V1Pod): string {
  const rs = pod.metadata?.ownerReferences?.find((r) => r.kind === 'ReplicaSet')?.name
  return rs ? rs.replace(/-[^-]+$/, '') : (pod.metadata?.name ?? '')
}

/** Reads one cluster's pods and Services. */
export async function readClusterTopology(kc: KubeConfig, cluster: string): Promise<Topology> {
  const core = forContext(kc, cluster).makeApiClient(CoreV1Api)
  try {
    const [pods, services] = await Promise.all([core.listPodForAllNamespaces(), core.listServiceForAllNamespaces()])
    const running = pods.items.filter((p) => p.status?.podIP && p.status.phase === 'Running' && (hasSidecar(p) || isGateway(p)))
    const out: DataPlanePod[] = running.map((p) => {
      const labels = p.metadata?.labels ?? {}
      const namespace = p.metadata!.namespace!
      const name = p.metadata!.name!
      const lb = services.items
        .filter((s) => s.metadata?.namespace === namespace && isGateway(p) && selects(s.spec?.selector ?? {}, labels))
        .flatMap((s) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => Boolean(ip)))
      const containers = (p.spec?.containers ?? []).filter((c) => isGateway(p) || c.name !== 'istio-proxy')
      return {
        cluster, namespace, name, deployment: deploymentOf(p),
        app: labels.app ?? labels['app.kubernetes.io/name'] ?? deploymentOf(p), version: labels.version ?? '',
        serviceAccount: p.spec?.serviceAccountName ?? 'default', labels,
        kind: isGateway(p) ? 'gateway' : 'sidecar',
        addresses: [p.status!.podIP!, ...lb.filter((ip) => ip !== p.status!.podIP)],
        ports: containers.flatMap((c) => (c.ports ?? []).map((port) => port.containerPort)),
        ...podNetworkNames(cluster, namespace, name),
      }
    })
    const svcs: DataPlaneService[] = services.items.map((s) => {
      const selector = s.spec?.selector ?? {}
      const namespace = s.metadata!.namespace!
      return {
        cluster, namespace, name: s.metadata!.name!,
        vip: s.spec?.clusterIP && s.spec.clusterIP !== 'None' ? s.spec.clusterIP : undefined,
        selector,
        ports: (s.spec?.ports ?? []).map((p) => ({name: p.name, port: p.port, targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.port})),
        endpoints: out.filter((p) => p.namespace === namespace && selects(selector, p.labels)).map((p) => p.addresses[0]),
        loadBalancer: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => Boolean(ip)),
      }
    })
    return {pods: out, services: svcs}
  } catch (error) {
    throw kubeError(error, cluster)
  }
}

export async function readTopology(kc: KubeConfig, clusters: string[]): Promise<Topology> {
  const parts = await Promise.all(clusters.map((c) => readClusterTopology(kc, c)))
  return {pods: parts.flatMap((p) => p.pods), services: parts.flatMap((p) => p.services)}
}
