/**
 * The Istio kinds we generate, typed by @kubernetes-models/istio and checked with its validate(). We emit
 * networking.istio.io/v1beta1 (v1alpha3 for EnvoyFilter) and security.istio.io/v1beta1: served by every Istio from
 * 1.22 to 1.30, so the widest range of clusters takes them.
 */
import {type IDestinationRule, DestinationRule} from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule'
import {type IGateway, Gateway} from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway'
import {type IServiceEntry, ServiceEntry} from '@kubernetes-models/istio/networking.istio.io/v1beta1/ServiceEntry'
import {type IVirtualService, VirtualService} from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService'
import {type IEnvoyFilter, EnvoyFilter} from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter'
import {type IAuthorizationPolicy, AuthorizationPolicy} from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy'

export type VirtualServiceSpec = NonNullable<IVirtualService['spec']>
export type HTTPRoute = NonNullable<VirtualServiceSpec['http']>[number]
export type HTTPMatchRequest = NonNullable<HTTPRoute['match']>[number]
export type HTTPRouteDestination = NonNullable<HTTPRoute['route']>[number]
export type DestinationRuleSpec = NonNullable<IDestinationRule['spec']>
export type TrafficPolicySettings = NonNullable<DestinationRuleSpec['trafficPolicy']>
export type OutlierDetectionSettings = NonNullable<TrafficPolicySettings['outlierDetection']>
export type ServiceEntrySpec = NonNullable<IServiceEntry['spec']>
export type GatewaySpec = NonNullable<IGateway['spec']>
export type EnvoyFilterSpec = NonNullable<IEnvoyFilter['spec']>
export type AuthorizationPolicySpec = NonNullable<IAuthorizationPolicy['spec']>

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY = 'kubectl-smh'
export const CLUSTER_ANNOTATION = 'smh.solo.io/cluster'
export const SOURCES_ANNOTATION = 'smh.solo.io/sources'

export interface IstioObjectMeta {
  name: string
  namespace: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

export type IstioObject =
  | (Omit<IVirtualService, 'metadata'> & {metadata: IstioObjectMeta})
  | (Omit<IDestinationRule, 'metadata'> & {metadata: IstioObjectMeta})
  | (Omit<IServiceEntry, 'metadata'> & {metadata: IstioObjectMeta})
  | (Omit<IGateway, 'metadata'> & {metadata: IstioObjectMeta})
  | (Omit<IEnvoyFilter, 'metadata'> & {metadata: IstioObjectMeta})
  | (Omit<IAuthorizationPolicy, 'metadata'> & {metadata: IstioObjectMeta})

export type IstioKind = IstioObject['kind']

/** Where a generated object goes and which SMH resources made it. */
export interface Placement {
  cluster: string
  name: string
  namespace: string
  sources: Iterable<string>
}

function sourcesValue(sources: Iterable<string>): string {
  const list = Array.isArray(sources) ? sources : [...sources]
  if (list.length === 1) return list[0]
  return [...new Set(list)].sort().join(',')
}

function metadata(placement: Placement): IstioObjectMeta {
  return {
    name: placement.name,
    namespace: placement.namespace,
    labels: {[MANAGED_BY_LABEL]: MANAGED_BY},
    annotations: {[CLUSTER_ANNOTATION]: placement.cluster, [SOURCES_ANNOTATION]: sourcesValue(placement.sources)},
  }
}

/** A typed constructor for one kind: placement + spec → the object, with our label and annotations. */
function objectOf<Spec>(model: {apiVersion: string; kind: string}): (placement: Placement, spec: Spec) => IstioObject {
  return (placement, spec) => ({apiVersion: model.apiVersion, kind: model.kind, metadata: metadata(placement), spec}) as IstioObject
}

export const virtualService = objectOf<VirtualServiceSpec>(VirtualService)
export const destinationRule = objectOf<DestinationRuleSpec>(DestinationRule)
export const serviceEntry = objectOf<ServiceEntrySpec>(ServiceEntry)
export const gateway = objectOf<GatewaySpec>(Gateway)
export const envoyFilter = objectOf<EnvoyFilterSpec>(EnvoyFilter)
export const authorizationPolicy = objectOf<AuthorizationPolicySpec>(AuthorizationPolicy)

const MODELS: Record<IstioKind, new (data: any) => {validate(): void}> = {
  VirtualService,
  DestinationRule,
  ServiceEntry,
  Gateway,
  EnvoyFilter,
  AuthorizationPolicy,
}

/** Throws when @kubernetes-models/istio's schema rejects the object: a bug of ours, never the user's input. */
export function validateIstioObject(object: IstioObject): void {
  // The model's constructor deep-copies its data, which costs more than the validation itself; a shallow object
  // with the model's prototype validates the same properties (validate() reads only the schema id from it).
  const model = Object.create(MODELS[object.kind].prototype) as {validate(): void}
  Object.assign(model, {apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec: object.spec})
  model.validate()
}

/** Output order inside a cluster: what others refer to first, so `kubectl apply -f` of the stream works in one go. */
export const KIND_ORDER: IstioKind[] = ['Gateway', 'ServiceEntry', 'DestinationRule', 'VirtualService', 'EnvoyFilter', 'AuthorizationPolicy']
