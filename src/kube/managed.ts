/**
 * What kubectl-smh writes into registered clusters: the Istio kinds the translator generates (with the
 * apiVersion it emits them in), and how a generated object is recognised (DESIGN.md §2).
 */
import {MANAGED_BY, MANAGED_BY_LABEL, SOURCES_ANNOTATION} from '../translate/istio.js'

export {CLUSTER_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, SOURCES_ANNOTATION} from '../translate/istio.js'
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

export interface ManagedKind {
  apiVersion: string
  kind: string
  group: string
  resource: string
}

/** In the translator's KIND_ORDER: applied in this order, pruned in reverse. */
export const MANAGED_KINDS: readonly ManagedKind[] = [
  {apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway', group: 'networking.istio.io', resource: 'gateways'},
  {apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry', group: 'networking.istio.io', resource: 'serviceentries'},
  {apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', group: 'networking.istio.io', resource: 'destinationrules'},
  {apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', group: 'networking.istio.io', resource: 'virtualservices'},
  {apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', group: 'networking.istio.io', resource: 'envoyfilters'},
  {apiVersion: 'security.istio.io/v1beta1', kind: 'AuthorizationPolicy', group: 'security.istio.io', resource: 'authorizationpolicies'},
]

/** `Kind/namespace/name`: how plans and messages name an object of one cluster. */
export function objectKey(object: {kind?: string; metadata?: {namespace?: string; name?: string}}): string {
  return `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`
}

/** The SMH resources (`Kind/ns/name`) an object was generated from. */
export function sourcesOf(object: {metadata?: {annotations?: Record<string, string>}}): string[] {
  const value = object.metadata?.annotations?.[SOURCES_ANNOTATION]
  return value ? value.split(',') : []
}
