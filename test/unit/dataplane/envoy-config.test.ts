import {describe, expect, it} from 'vitest'

import {ISTIO_ONLY_EXTENSIONS, type ProxyXds, UnknownExtensionError, envoyNode, fileXds, staticBootstrap, stripIstioOnly} from '../../../src/dataplane/envoy-config.js'

const T = 'type.googleapis.com/'
const SDS = (name: string) => ({name, sdsConfig: {apiConfigSource: {apiType: 'GRPC', grpcServices: [{envoyGrpc: {clusterName: 'sds-grpc'}}]}, initialFetchTimeout: '0s', resourceApiVersion: 'V3'}})
const mxTcp = {name: 'istio.metadata_exchange', typedConfig: {'@type': `${T}udpa.type.v1.TypedStruct`, typeUrl: `${T}envoy.tcp.metadataexchange.config.MetadataExchange`, value: {protocol: 'istio-peer-exchange'}}}
const mxHttp = {name: 'istio.metadata_exchange', typedConfig: {'@type': `${T}udpa.type.v1.TypedStruct`, typeUrl: `${T}io.istio.http.peer_metadata.Config`, value: {}}}
const alpn = {name: 'istio.alpn', typedConfig: {'@type': `${T}istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig`, alpnOverride: [{alpnOverride: ['istio-http/1.1']}]}}
const router = {name: 'envoy.filters.http.router', typedConfig: {'@type': `${T}envoy.extensions.filters.http.router.v3.Router`}}

/** A small sidecar's xDS in the oracle's shape: one EDS cluster with Istio mTLS and an MX filter, one outbound HTTP listener on RDS. */
function proxy(): ProxyXds {
  return {
    proxy: {id: 'productpage-v1-abc-xyz.default', type: 'sidecar', ip: '10.246.7.12', namespace: 'default', cluster: 'kind2', istioVersion: '1.30.3', labels: {app: 'productpage', version: 'v1'}, locality: 'region1/zone1/'},
    clusters: [
      {
        name: 'outbound|9080||reviews.default.svc.cluster.local',
        type: 'EDS',
        edsClusterConfig: {edsConfig: {ads: {}, resourceApiVersion: 'V3'}, serviceName: 'outbound|9080||reviews.default.svc.cluster.local'},
        connectTimeout: '10s',
        filters: [mxTcp],
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
            commonTlsContext: {tlsCertificateSdsSecretConfigs: [SDS('default')], combinedValidationContext: {defaultValidationContext: {}, validationContextSdsSecretConfig: SDS('ROOTCA')}, alpnProtocols: ['istio-peer-exchange', 'istio']},
            sni: 'outbound_.9080_._.reviews.default.svc.cluster.local',
          },
        },
      },
      {name: 'outbound|9080||ratings.default.svc.cluster.local', type: 'EDS', edsClusterConfig: {edsConfig: {ads: {}}, serviceName: 'outbound|9080||ratings.default.svc.cluster.local'}},
      {name: 'BlackHoleCluster', type: 'STATIC', connectTimeout: '10s'},
    ],
    listeners: [
      {
        name: '0.0.0.0_9080',
        address: {socketAddress: {address: '0.0.0.0', portValue: 9080}},
        filterChains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typedConfig: {
                  '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                  statPrefix: 'outbound_0.0.0.0_9080',
                  rds: {configSource: {ads: {}, resourceApiVersion: 'V3'}, routeConfigName: '9080'},
                  httpFilters: [mxHttp, alpn, router],
                },
              },
            ],
          },
        ],
        bindToPort: false,
      },
    ],
    routes: [{name: '9080', virtualHosts: [{name: 'reviews.default.svc.cluster.local:9080', domains: ['reviews'], routes: [{match: {prefix: '/'}, route: {cluster: 'outbound|9080||reviews.default.svc.cluster.local'}}]}]}],
    endpoints: [{clusterName: 'outbound|9080||reviews.default.svc.cluster.local', endpoints: [{locality: {region: 'region1'}, lbEndpoints: [{endpoint: {address: {socketAddress: {address: '10.246.7.20', portValue: 9080}}}}]}]}],
  }
}
const secrets = {default: {certificateChain: '/certs/cert-chain.pem', privateKey: '/certs/key.pem'}, ROOTCA: {trustedCa: '/certs/root-cert.pem'}}
const hcmOf = (listener: any) => listener.filterChains[0].filters[0].typedConfig

describe('stripIstioOnly', () => {
  it('removes exactly the Istio-only filters, from clusters and HTTP filter chains, and says where each was', () => {
    const {xds, removed} = stripIstioOnly(proxy())
    expect(removed).toEqual([
      {name: 'istio.metadata_exchange', typeUrl: 'envoy.tcp.metadataexchange.config.MetadataExchange', path: 'clusters[outbound|9080||reviews.default.svc.cluster.local].filters[istio.metadata_exchange]'},
      {name: 'istio.metadata_exchange', typeUrl: 'io.istio.http.peer_metadata.Config', path: 'listeners[0.0.0.0_9080].filterChains[0].filters[envoy.filters.network.http_connection_manager].typedConfig.httpFilters[istio.metadata_exchange]'},
      {name: 'istio.alpn', typeUrl: 'istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig', path: 'listeners[0.0.0.0_9080].filterChains[0].filters[envoy.filters.network.http_connection_manager].typedConfig.httpFilters[istio.alpn]'},
    ])
    expect(hcmOf(xds.listeners[0]).httpFilters).toEqual([router])
    expect(xds.clusters[0].filters).toBeUndefined() // emptied list gone
    expect(xds.clusters[0].transportSocket).toEqual(proxy().clusters[0].transportSocket) // everything else untouched
  })

  it('lists a reason for every removal', () => {
    for (const e of ISTIO_ONLY_EXTENSIONS) expect(e.reason.length, e.name).toBeGreaterThan(40)
    expect(ISTIO_ONLY_EXTENSIONS.map((e) => e.name)).toEqual(['istio.metadata_exchange', 'istio.metadata_exchange', 'istio.alpn', 'istio.stats'])
  })

  it('throws on any other extension Envoy does not know, naming the proxy, the filter, its type and where it is', () => {
    const p = proxy()
    hcmOf(p.listeners[0]).httpFilters.splice(2, 0, {name: 'istio.authn', typedConfig: {'@type': `${T}istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig`}})
    expect(() => stripIstioOnly(p)).toThrow(UnknownExtensionError)
    expect(() => stripIstioOnly(p)).toThrow(
      "proxy kind2/default/productpage-v1-abc-xyz (sidecar): filter 'istio.authn' with config type istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig at listeners[0.0.0.0_9080].filterChains[0].filters[envoy.filters.network.http_connection_manager].typedConfig.httpFilters[istio.authn].typedConfig is unknown to upstream Envoy",
    )
  })

  it('judges a TypedStruct by the type it wraps, and a known Istio name on another type is not removed', () => {
    const wrapped = proxy()
    wrapped.clusters[1].filters = [{name: 'envoy.filters.network.rbac', typedConfig: {'@type': `${T}udpa.type.v1.TypedStruct`, typeUrl: `${T}envoy.extensions.filters.network.rbac.v3.RBAC`, value: {}}}]
    expect(() => stripIstioOnly(wrapped)).not.toThrow() // upstream knows RBAC
    const other = proxy()
    other.clusters[1].filters = [{name: 'istio.metadata_exchange', typedConfig: {'@type': `${T}udpa.type.v1.TypedStruct`, typeUrl: `${T}acme.Exchange`, value: {}}}]
    expect(() => stripIstioOnly(other)).toThrow(/filter 'istio\.metadata_exchange' with config type acme\.Exchange/)
  })

  it('a filter given by name alone must be one Envoy knows', () => {
    const p = proxy()
    p.listeners[0].listenerFilters = [{name: 'envoy.filters.listener.tls_inspector'}, {name: 'acme.sniffer'}]
    expect(() => stripIstioOnly(p)).toThrow(/filter 'acme\.sniffer' at listeners\[0\.0\.0\.0_9080\]\.listenerFilters\[acme\.sniffer\]/)
  })

  it('drops per-route configs of a removed filter too', () => {
    const p = proxy()
    p.routes[0].virtualHosts[0].typedPerFilterConfig = {'istio.alpn': alpn.typedConfig, 'envoy.filters.http.fault': {'@type': `${T}envoy.extensions.filters.http.fault.v3.HTTPFault`}}
    const {xds, removed} = stripIstioOnly(p)
    expect(Object.keys(xds.routes[0].virtualHosts[0].typedPerFilterConfig)).toEqual(['envoy.filters.http.fault'])
    expect(removed.at(-1)?.path).toBe('routes[9080].virtualHosts[reviews.default.svc.cluster.local:9080].typedPerFilterConfig.istio.alpn')
  })
})

describe('envoyNode', () => {
  it('is the node pilot-agent writes: sidecar~IP~POD.NS~NS.svc.cluster.local, cluster app.namespace, locality', () => {
    const n = envoyNode(proxy().proxy)
    expect(n.id).toBe('sidecar~10.246.7.12~productpage-v1-abc-xyz.default~default.svc.cluster.local')
    expect(n.cluster).toBe('productpage.default')
    expect(n.locality).toEqual({region: 'region1', zone: 'zone1'})
    expect(n.metadata).toMatchObject({CLUSTER_ID: 'kind2', NAMESPACE: 'default', ISTIO_VERSION: '1.30.3'})
    expect(envoyNode({...proxy().proxy, type: 'router', labels: {istio: 'ingressgateway'}, namespace: 'istio-system'}).cluster).toBe('istio-proxy.istio-system')
  })
})

describe('staticBootstrap', () => {
  const b = staticBootstrap(proxy(), {secrets})
  const cluster = (name: string) => b.staticResources.clusters.find((c: any) => c.name === name)

  it('makes EDS clusters STATIC with their load assignment (an empty one when Istio had no endpoints)', () => {
    const reviews = cluster('outbound|9080||reviews.default.svc.cluster.local')
    expect(reviews.type).toBe('STATIC')
    expect(reviews.edsClusterConfig).toBeUndefined()
    expect(reviews.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress).toEqual({address: '10.246.7.20', portValue: 9080})
    expect(cluster('outbound|9080||ratings.default.svc.cluster.local').loadAssignment).toEqual({clusterName: 'outbound|9080||ratings.default.svc.cluster.local', endpoints: []})
  })

  it('inlines route configs, makes SDS secrets static from the given files, keeps no ADS anywhere', () => {
    const hcm = hcmOf(b.staticResources.listeners.find((l: any) => l.name === '0.0.0.0_9080'))
    expect(hcm.rds).toBeUndefined()
    expect(hcm.routeConfig.name).toBe('9080')
    const tls = cluster('outbound|9080||reviews.default.svc.cluster.local').transportSocket.typedConfig.commonTlsContext
    expect(tls.tlsCertificateSdsSecretConfigs).toEqual([{name: 'default'}])
    expect(tls.combinedValidationContext.validationContextSdsSecretConfig).toEqual({name: 'ROOTCA'})
    expect(b.staticResources.secrets).toEqual([
      {name: 'ROOTCA', validationContext: {trustedCa: {filename: '/certs/root-cert.pem'}}},
      {name: 'default', tlsCertificate: {certificateChain: {filename: '/certs/cert-chain.pem'}, privateKey: {filename: '/certs/key.pem'}}},
    ])
    expect(JSON.stringify(b)).not.toContain('"ads"')
    expect(JSON.stringify(b)).not.toContain('istio.alpn')
  })

  it("has pilot-agent's admin (127.0.0.1:15000), Prometheus stats on 15090 and readiness on 15021", () => {
    expect(b.admin.address.socketAddress).toEqual({protocol: 'TCP', address: '127.0.0.1', portValue: 15000})
    const prom = b.staticResources.listeners.find((l: any) => l.name === '0.0.0.0_15090')
    expect(prom.address.socketAddress.portValue).toBe(15090)
    expect(hcmOf(prom).routeConfig.virtualHosts[0].routes).toEqual([{match: {prefix: '/stats/prometheus'}, route: {cluster: 'prometheus_stats'}}])
    expect(cluster('prometheus_stats').loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.portValue).toBe(15000)
    expect(b.staticResources.clusters.map((c: any) => c.name)).toEqual(expect.arrayContaining(['sds-grpc', 'xds-grpc']))
  })

  it('refuses when a referenced secret has no file, naming it', () => {
    expect(() => staticBootstrap(proxy(), {secrets: {default: secrets.default}})).toThrow('proxy kind2/default/productpage-v1-abc-xyz (sidecar) refers to secrets ROOTCA, which no file was given for (secrets: default)')
  })
})

describe('fileXds, default inline layout', () => {
  const out = fileXds(proxy(), '/run/envoy/pp', {secrets})
  const file = (p: string) => JSON.parse(out.files.find((f) => f.path === p)!.content)

  it('watches only cds.json, lds.json and one file per secret: endpoints inside their clusters, routes inside their listeners', () => {
    expect(out.files.map((f) => f.path.replace(/-[0-9a-f]{8}\.json$/, ''))).toEqual(['/run/envoy/pp/sds/ROOTCA', '/run/envoy/pp/sds/default', '/run/envoy/pp/cds.json', '/run/envoy/pp/lds.json', '/run/envoy/pp/bootstrap.json'])
    const reviews = file('/run/envoy/pp/cds.json').resources[0]
    expect(reviews).toMatchObject({type: 'STATIC', loadAssignment: {clusterName: 'outbound|9080||reviews.default.svc.cluster.local'}})
    expect(reviews.edsClusterConfig).toBeUndefined()
    const hcm = hcmOf(file('/run/envoy/pp/lds.json').resources[0])
    expect(hcm.rds).toBeUndefined()
    expect(hcm.routeConfig.name).toBe('9080')
    expect(out.files.filter((f) => /\/(eds|rds)\//.test(f.content)).map((f) => f.path)).toEqual([])
  })

  it('the same config in another key order gives byte-identical files (no reload for nothing)', () => {
    const reversed = (x: any): any => (Array.isArray(x) ? x.map(reversed) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).reverse().map(([k, v]) => [k, reversed(v)])) : x)
    expect(fileXds(reversed(proxy()), '/run/envoy/pp', {secrets})).toEqual(out)
    expect(file('/run/envoy/pp/cds.json').resources[0]['@type']).toBe(`${T}envoy.config.cluster.v3.Cluster`)
    expect(Object.keys(file('/run/envoy/pp/cds.json').resources[0])[0]).toBe('@type')
  })

  it('a secret version (a rotation at the same paths) changes only that secret file', () => {
    const rotated = fileXds(proxy(), '/run/envoy/pp', {secrets: {...secrets, default: {...secrets.default, version: 'fingerprint-2'}}})
    expect(rotated.files.filter((f, i) => f.content !== out.files[i].content).map((f) => f.path.replace(/-[0-9a-f]{8}\.json$/, ''))).toEqual(['/run/envoy/pp/sds/default'])
  })
})

describe('fileXds, split layout', () => {
  const out = fileXds(proxy(), '/run/envoy/pp', {secrets, admin: {address: '10.246.7.12'}, layout: 'split'})
  const file = (p: string) => JSON.parse(out.files.find((f) => f.path === p)!.content)
  const paths = out.files.map((f) => f.path)

  it('writes secrets, endpoints and routes before clusters, clusters before listeners, the bootstrap last', () => {
    const rank = (p: string) => (p.includes('/sds/') ? 0 : p.includes('/eds/') ? 1 : p.includes('/rds/') ? 2 : p.endsWith('cds.json') ? 3 : p.endsWith('lds.json') ? 4 : 5)
    expect(paths.map(rank)).toEqual([...paths.map(rank)].sort())
    expect(paths.filter((p) => p.includes('/sds/'))).toHaveLength(2)
    expect(paths.filter((p) => p.includes('/eds/'))).toHaveLength(2)
    expect(paths.filter((p) => p.includes('/rds/'))).toHaveLength(1)
    expect(out.bootstrap).toBe('/run/envoy/pp/bootstrap.json')
    expect(paths.at(-1)).toBe(out.bootstrap)
    for (const p of paths) expect(p).toMatch(/^\/run\/envoy\/pp\/[^|]+\.json$/)
  })

  it('points the bootstrap at cds.json and lds.json, and every EDS, RDS and SDS reference at its own one-resource file', () => {
    const boot = file(out.bootstrap)
    expect(boot.dynamicResources).toEqual({cdsConfig: {pathConfigSource: {path: '/run/envoy/pp/cds.json'}, resourceApiVersion: 'V3'}, ldsConfig: {pathConfigSource: {path: '/run/envoy/pp/lds.json'}, resourceApiVersion: 'V3'}})
    expect(boot.admin.address.socketAddress.address).toBe('10.246.7.12')
    expect(boot.node.id).toBe('sidecar~10.246.7.12~productpage-v1-abc-xyz.default~default.svc.cluster.local')
    const cds = file('/run/envoy/pp/cds.json')
    expect(cds.resources.map((c: any) => c['@type'])).toEqual(Array(3).fill(`${T}envoy.config.cluster.v3.Cluster`))
    const reviews = cds.resources[0]
    const edsFile = reviews.edsClusterConfig.edsConfig.pathConfigSource.path
    expect(file(edsFile).resources).toEqual([{'@type': `${T}envoy.config.endpoint.v3.ClusterLoadAssignment`, ...proxy().endpoints[0]}])
    const sdsFile = reviews.transportSocket.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs[0].sdsConfig.pathConfigSource.path
    expect(file(sdsFile).resources).toEqual([
      {'@type': `${T}envoy.extensions.transport_sockets.tls.v3.Secret`, name: 'default', tlsCertificate: {certificateChain: {filename: '/certs/cert-chain.pem'}, privateKey: {filename: '/certs/key.pem'}}},
    ])
    const hcm = hcmOf(file('/run/envoy/pp/lds.json').resources[0])
    expect(hcm.rds.routeConfigName).toBe('9080')
    expect(file(hcm.rds.configSource.pathConfigSource.path).resources[0].name).toBe('9080')
    expect(hcm.httpFilters.map((f: any) => f.name)).toEqual(['envoy.filters.http.router'])
  })

  it('versions each file by its content: the same input gives the same files, a change changes only what changed', () => {
    const again = fileXds(proxy(), '/run/envoy/pp', {secrets, admin: {address: '10.246.7.12'}, layout: 'split'})
    expect(again).toEqual(out)
    const p = proxy()
    p.endpoints[0].endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address = '10.246.7.21'
    const changed = fileXds(p, '/run/envoy/pp', {secrets, admin: {address: '10.246.7.12'}, layout: 'split'})
    const differ = changed.files.filter((f, i) => f.content !== out.files[i].content).map((f) => f.path)
    expect(differ).toHaveLength(1)
    expect(differ[0]).toMatch(/\/eds\/outbound_9080_reviews\.default\.svc\.cluster\.local-[0-9a-f]{8}\.json$/)
  })
})
