/**
 * The Service Mesh Hub 0.9 API (networking.smh.solo.io/v1alpha2, multicluster.solo.io/v1alpha1) as TypeScript.
 * Field names are the users' existing YAML; see ../shared/notes/smh-translation.md §1. Optional fields stay
 * optional: defaults are applied by the translator where Service Mesh Hub applied them.
 */

export const NETWORKING_GROUP = 'networking.smh.solo.io'
export const NETWORKING_VERSION = 'v1alpha2'
export const NETWORKING_API_VERSION = `${NETWORKING_GROUP}/${NETWORKING_VERSION}`
export const MULTICLUSTER_GROUP = 'multicluster.solo.io'
export const MULTICLUSTER_VERSION = 'v1alpha1'
export const MULTICLUSTER_API_VERSION = `${MULTICLUSTER_GROUP}/${MULTICLUSTER_VERSION}`
export const SMH_NAMESPACE = 'service-mesh-hub'

/**
 * SMH 0.9's API has no key algorithm for a generated root (only rsaKeySizeBytes), so ECDSA is asked for with this
 * annotation on the VirtualMesh (`ecdsa`: P-256); the trust step reads it. Without it the root is RSA.
 */
export const CA_KEY_ALGORITHM_ANNOTATION = 'smh.solo.io/ca-key-algorithm'

export interface ObjectMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  generation?: number
  creationTimestamp?: string
  [key: string]: unknown
}

export interface ObjectRef {
  name: string
  namespace?: string
}

export interface ClusterObjectRef {
  name: string
  namespace: string
  clusterName: string
}

export interface KubeServiceMatcher {
  labels?: Record<string, string>
  namespaces?: string[]
  clusters?: string[]
}

export interface TrafficTargetSelector {
  kubeServiceMatcher?: KubeServiceMatcher
  kubeServiceRefs?: {services?: ClusterObjectRef[]}
}

export interface WorkloadSelector {
  labels?: Record<string, string>
  namespaces?: string[]
  clusters?: string[]
}

export interface IdentitySelector {
  kubeIdentityMatcher?: {namespaces?: string[]; clusters?: string[]}
  kubeServiceAccountRefs?: {serviceAccounts?: ClusterObjectRef[]}
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD' | 'CONNECT' | 'OPTIONS' | 'TRACE' | 'PATCH'
export const HTTP_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']

export interface HttpMatcher {
  prefix?: string
  exact?: string
  regex?: string
  headers?: {name: string; value?: string; regex?: boolean; invertMatch?: boolean}[]
  queryParameters?: {name: string; value?: string; regex?: boolean}[]
  method?: {method: HttpMethod}
}

export interface KubeServiceDestination {
  name: string
  namespace: string
  clusterName: string
  subset?: Record<string, string>
  port?: number
}

export interface TrafficShiftDestination {
  weight?: number
  kubeService?: KubeServiceDestination
  /** Service Mesh Hub's proto calls it failoverService; its blog post and docs write failoverServiceRef. */
  failoverServiceRef?: {name: string; namespace?: string; subset?: Record<string, string>}
  failoverService?: {name: string; namespace?: string; subset?: Record<string, string>}
}

export interface StringMatch {
  exact?: string
  prefix?: string
  regex?: string
}

export interface OutlierDetection {
  consecutiveErrors?: number
  interval?: string
  baseEjectionTime?: string
  maxEjectionPercent?: number
}

export interface TrafficPolicySpec {
  sourceSelector?: WorkloadSelector[]
  destinationSelector?: TrafficTargetSelector[]
  httpRequestMatchers?: HttpMatcher[]
  trafficShift?: {destinations?: TrafficShiftDestination[]}
  faultInjection?: {fixedDelay?: string; abort?: {httpStatus: number}; percentage?: number}
  requestTimeout?: string
  retries?: {attempts?: number; perTryTimeout?: string}
  corsPolicy?: {
    allowOrigins?: StringMatch[]
    allowMethods?: string[]
    allowHeaders?: string[]
    exposeHeaders?: string[]
    maxAge?: string
    allowCredentials?: boolean
  }
  mirror?: {kubeService: ClusterObjectRef; percentage?: number; port?: number}
  headerManipulation?: {
    appendRequestHeaders?: Record<string, string>
    removeRequestHeaders?: string[]
    appendResponseHeaders?: Record<string, string>
    removeResponseHeaders?: string[]
  }
  outlierDetection?: OutlierDetection
  mtls?: {istio?: {tlsMode?: 'DISABLE' | 'SIMPLE' | 'ISTIO_MUTUAL'}}
}

export interface FailoverServiceSpec {
  hostname: string
  port: {number: number; protocol?: string}
  meshes: ObjectRef[]
  backingServices: {kubeService: ClusterObjectRef}[]
}

export interface VirtualMeshSpec {
  meshes: ObjectRef[]
  mtlsConfig?: {
    shared?: {
      rootCertificateAuthority?: {
        generated?: {ttlDays?: number; rsaKeySizeBytes?: number; orgName?: string}
        secret?: ObjectRef
      }
    }
    limited?: Record<string, never>
    autoRestartPods?: boolean
  }
  federation?: VirtualMeshFederation
  globalAccessPolicy?: 'MESH_DEFAULT' | 'ENABLED' | 'DISABLED'
}

/**
 * One of: `permissive` (Service Mesh Hub 0.9, and what an empty or absent federation means), `onDemand` (only what
 * something routes to), `none`, or Gloo Mesh 1.1 style `selectors`.
 */
export interface VirtualMeshFederation {
  permissive?: Record<string, never>
  onDemand?: Record<string, never>
  none?: Record<string, never>
  selectors?: FederationSelector[]
}

export interface FederationSelector {
  /** Which services (empty: every service of the member meshes). */
  trafficTargetSelectors?: TrafficTargetSelector[]
  /** Into which member meshes (empty: every other member). */
  meshes?: ObjectRef[]
}

export type FederationMode = 'permissive' | 'onDemand' | 'none' | 'selectors'

export function federationMode(spec: VirtualMeshSpec): FederationMode {
  const f = spec.federation
  if (f?.onDemand) return 'onDemand'
  if (f?.none) return 'none'
  if (f?.selectors) return 'selectors'
  return 'permissive'
}

export interface AccessPolicySpec {
  sourceSelector?: IdentitySelector[]
  destinationSelector?: TrafficTargetSelector[]
  allowedPaths?: string[]
  allowedMethods?: HttpMethod[]
  allowedPorts?: number[]
}

export interface KubernetesClusterSpec {
  secretName?: string
  clusterDomain?: string
}

interface Resource<Kind extends string, Spec, ApiVersion extends string = typeof NETWORKING_API_VERSION> {
  apiVersion: ApiVersion
  kind: Kind
  metadata: ObjectMeta
  spec: Spec
  status?: unknown
}

export type TrafficPolicy = Resource<'TrafficPolicy', TrafficPolicySpec>
export type FailoverService = Resource<'FailoverService', FailoverServiceSpec>
export type VirtualMesh = Resource<'VirtualMesh', VirtualMeshSpec>
export type AccessPolicy = Resource<'AccessPolicy', AccessPolicySpec>
export type KubernetesCluster = Resource<'KubernetesCluster', KubernetesClusterSpec, typeof MULTICLUSTER_API_VERSION>

export type SmhResource = TrafficPolicy | FailoverService | VirtualMesh | AccessPolicy | KubernetesCluster
export type SmhKind = SmhResource['kind']

/** `Kind/namespace/name`, the form used in the sources annotation and in every message. */
export function resourceId(resource: {kind: string; metadata: {name?: string; namespace?: string}}): string {
  return `${resource.kind}/${resource.metadata.namespace ?? SMH_NAMESPACE}/${resource.metadata.name ?? ''}`
}

/** What the status of each SMH resource says after one translation (DESIGN.md §2). */
export type ApprovalState = 'ACCEPTED' | 'INVALID'

export interface ApprovalStatus {
  state: ApprovalState
  errors?: string[]
}

export interface ResourceStatus {
  apiVersion: string
  kind: SmhKind
  namespace: string
  name: string
  observedGeneration?: number
  state: ApprovalState
  errors: string[]
  /**
   * What is accepted but likely not meant: a selector that matches no service or workload. Only when there are any
   * (`spec.destinationSelector[0]: kubeServiceMatcher {labels: {app: nope}} matches no service in any registered cluster`).
   */
  warnings?: string[]
  /** TrafficPolicy / AccessPolicy: per selected service (`reviews-default-kind2`). */
  trafficTargets?: Record<string, ApprovalStatus>
  /** FailoverService / VirtualMesh: per mesh (`istiod-istio-system-kind2`). */
  meshes?: Record<string, ApprovalStatus>
}
