/** What discovery finds in one cluster. Names follow Service Mesh Hub: `<name>-<namespace>-<cluster>`. */

export interface KubeObject {
  apiVersion?: string
  kind: string
  metadata: {
    name: string
    namespace?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    ownerReferences?: OwnerReference[]
  }
  spec?: any // eslint-disable-line @typescript-eslint/no-explicit-any -- cluster objects of many kinds
  status?: any // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>
}

export interface OwnerReference {
  apiVersion?: string
  kind: string
  name: string
  controller?: boolean
}

export interface MeshGateway {
  /** The gateway Service (`istio-system/istio-ingressgateway`). */
  serviceName: string
  namespace: string
  /** The Service selector: the gateway pods' labels. */
  workloadLabels: Record<string, string>
  /** Where other clusters reach it: LoadBalancer IP or hostname, or the node address for a NodePort. */
  externalAddress: string
  externalAddressIsHostname: boolean
  /** The port other clusters dial (the `tls` Service port, or its nodePort). */
  externalTlsPort: number
  /** The port the gateway pod listens on (what an Istio Gateway server names). */
  tlsContainerPort: number
  /** An Istio Gateway not made by us already serves AUTO_PASSTHROUGH on that port (then we add none). */
  hasPassthroughServer: boolean
}

export interface Mesh {
  /** `istiod-istio-system-kind2` */
  name: string
  cluster: string
  /** The Istio namespace (`istio-system`). */
  installationNamespace: string
  istiodName: string
  version: string
  revision: string
  trustDomain: string
  /** The mesh config's `trustDomainAliases`: other trust domains its sidecars accept as their own. */
  trustDomainAliases: string[]
  /** istiod runs with `PILOT_SKIP_VALIDATE_TRUST_DOMAIN=true`: its sidecars accept peers of any trust domain. */
  skipTrustDomainValidation: boolean
  istiodServiceAccount: string
  podLabels: Record<string, string>
  gateways: MeshGateway[]
}

/**
 * What owns a workload's pods: the top of their owner chain (a ReplicaSet's owner, such as a Deployment or an Argo
 * `Rollout`), `Pod` for a pod that nothing owns, or any other controller kind as its owner reference names it.
 */
export type ControllerKind = 'Deployment' | 'DaemonSet' | 'StatefulSet' | 'ReplicaSet' | 'Rollout' | 'Job' | 'Pod' | (string & {})

export interface Workload {
  /** `<controller>-<namespace>-<cluster>-<kind lowercased>`: `reviews-v1-default-kind2-deployment`, `db-migrate-default-kind2-job`, `debug-default-kind2-pod` */
  name: string
  cluster: string
  namespace: string
  controllerKind: ControllerKind
  controllerName: string
  podLabels: Record<string, string>
  serviceAccountName: string
  mesh: string
}

export interface ServicePort {
  name?: string
  port: number
  protocol: string
  appProtocol?: string
  targetPort?: number | string
}

export interface MeshService {
  /** `reviews-default-kind2` */
  name: string
  cluster: string
  namespace: string
  serviceName: string
  labels: Record<string, string>
  /** The Service selector: the labels of its pods. */
  selector: Record<string, string>
  ports: ServicePort[]
  /** Pod label keys whose values differ across the backing workloads, with those values (sorted). */
  subsets: Record<string, string[]>
  mesh: string
  workloads: string[]
}

export interface ClusterDiscovery {
  cluster: string
  meshes: Mesh[]
  workloads: Workload[]
  services: MeshService[]
}

export interface DiscoveryOptions {
  /** Gateway Service selectors, most preferred first (Service Mesh Hub #1094 asked for this to be configurable). */
  gatewaySelectors?: Record<string, string>[]
  /** Names of the gateway port that carries cross-cluster mTLS. */
  gatewayPortNames?: string[]
}
