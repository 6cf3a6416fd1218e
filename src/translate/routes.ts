/** HTTP route matches from TrafficPolicy selectors and matchers, and Service Mesh Hub's most-specific-first order. */
import type {HttpMatcher, TrafficPolicy} from '../api/types.js'
import type {HTTPMatchRequest, HTTPRoute} from './istio.js'

/**
 * The matches of one policy's routes: each sourceSelector (per namespace) crossed with each httpRequestMatcher.
 * An empty list means one route with no match (every request).
 */
export function policyMatches(policy: TrafficPolicy, cluster: string): HTTPMatchRequest[] | undefined {
  const sources = policy.spec.sourceSelector ?? []
  // A policy whose sources are all in other clusters does not apply to this cluster's clients.
  if (sources.length > 0 && !sources.some((s) => !s.clusters?.length || s.clusters.includes(cluster))) return undefined
  const sourceMatches: HTTPMatchRequest[] = []
  for (const source of sources) {
    if (source.clusters?.length && !source.clusters.includes(cluster)) continue
    const labels = source.labels && Object.keys(source.labels).length ? {sourceLabels: sortedMap(source.labels)} : {}
    if (source.namespaces?.length) for (const namespace of source.namespaces) sourceMatches.push({...labels, sourceNamespace: namespace})
    else if (labels.sourceLabels) sourceMatches.push(labels)
  }
  const requestMatches = (policy.spec.httpRequestMatchers ?? []).map(requestMatch)
  if (sourceMatches.length === 0) return requestMatches
  if (requestMatches.length === 0) return sourceMatches
  return sourceMatches.flatMap((source) => requestMatches.map((request) => ({...request, ...source})))
}

function sortedMap(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(map).sort().map((k) => [k, map[k]]))
}

function requestMatch(matcher: HttpMatcher): HTTPMatchRequest {
  const match: HTTPMatchRequest = {}
  if (matcher.exact !== undefined) match.uri = {exact: matcher.exact}
  else if (matcher.prefix !== undefined) match.uri = {prefix: matcher.prefix}
  else if (matcher.regex !== undefined) match.uri = {regex: matcher.regex}
  const headers = (matcher.headers ?? []).filter((h) => !h.invertMatch)
  const withoutHeaders = (matcher.headers ?? []).filter((h) => h.invertMatch)
  const stringMatch = (h: {value?: string; regex?: boolean}) => (h.regex ? {regex: h.value ?? ''} : {exact: h.value ?? ''})
  if (headers.length) match.headers = Object.fromEntries(headers.map((h) => [h.name, stringMatch(h)]))
  if (withoutHeaders.length) match.withoutHeaders = Object.fromEntries(withoutHeaders.map((h) => [h.name, stringMatch(h)]))
  if (matcher.queryParameters?.length) match.queryParams = Object.fromEntries(matcher.queryParameters.map((q) => [q.name, stringMatch(q)]))
  if (matcher.method) match.method = {exact: matcher.method.method}
  return match
}

const count = (map: object | undefined) => (map ? Object.keys(map).length : 0)

/** Negative when a is more specific than b (Service Mesh Hub's order, notes §2.1); stable ties by JSON. */
function compareMatches(a: HTTPMatchRequest | undefined, b: HTTPMatchRequest | undefined): number {
  if (!a || !b) return a ? -1 : b ? 1 : 0
  const uriRank = (m: HTTPMatchRequest) => (m.uri?.exact !== undefined ? 3 : m.uri?.regex !== undefined ? 2 : m.uri?.prefix !== undefined ? 1 : 0)
  const uriValue = (m: HTTPMatchRequest) => m.uri?.exact ?? m.uri?.regex ?? m.uri?.prefix ?? ''
  return (
    uriRank(b) - uriRank(a) ||
    uriValue(b).length - uriValue(a).length ||
    (uriValue(a) < uriValue(b) ? -1 : uriValue(a) > uriValue(b) ? 1 : 0) ||
    count(b.headers) - count(a.headers) ||
    count(b.queryParams) - count(a.queryParams) ||
    count(b.sourceLabels) - count(a.sourceLabels) ||
    ((b.sourceNamespace ?? '') < (a.sourceNamespace ?? '') ? -1 : (b.sourceNamespace ?? '') > (a.sourceNamespace ?? '') ? 1 : 0) ||
    (b.method ? 1 : 0) - (a.method ? 1 : 0) ||
    count(b.withoutHeaders) - count(a.withoutHeaders) ||
    (a.port ?? 0) - (b.port ?? 0)
  )
}

export function sortRoutes(routes: {route: HTTPRoute; key: string}[]): HTTPRoute[] {
  return routes
    .sort((x, y) => compareMatches(x.route.match?.[0], y.route.match?.[0]) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map((x) => x.route)
}

/** A one-line description of a match for messages: `uri prefix /api, port 9080` or `every request`. */
export function describeMatch(match: HTTPMatchRequest | undefined): string {
  if (!match || Object.keys(match).length === 0) return 'the route for every request'
  return `the route matching ${JSON.stringify(match)}`
}
