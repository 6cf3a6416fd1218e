// The data plane's fast layer (issue 9), no root and no namespaces: every proxy of every golden case gets its xDS
// from Istio's own generator (the oracle), is converted for upstream Envoy (src/dataplane/envoy-config.ts) and must
// pass the real Envoy 1.40's `--mode validate`. The negative half proves the check has teeth: Envoy refuses a wrong
// @type and an unknown field, each Istio-only extension we remove is one Envoy refuses, and an extension that is
// neither known to Envoy nor on our list makes the conversion throw instead of vanishing.
import {rmSync} from 'node:fs'

import {afterAll, describe, expect, it} from 'vitest'

import {ENVOY_1_40_EXTENSIONS, ISTIO_ONLY_EXTENSIONS, type ProxyXds, UnknownExtensionError, staticBootstrap, stripIstioOnly} from '../../src/dataplane/envoy-config.js'
import {ENVOY_EXTENSION_NAMES, ENVOY_EXTENSION_TYPE_URLS, ENVOY_EXTENSIONS_VERSION} from '../../src/dataplane/envoy-extensions.js'
import {envoyBinary, envoyExtensionsOf, validateEnvoyConfig} from '../../src/dataplane/envoy.js'
import {goldenCases} from '../support/golden.js'
import {type GoldenProxy, ensureEnvoy, goldenProxies, pool, testSecrets} from '../support/envoy.js'

ensureEnvoy()

const certs = testSecrets()
afterAll(() => rmSync(certs.dir, {recursive: true, force: true}))
const secrets = certs.secrets

let seedCache: Promise<ProxyXds> | undefined
/** kind2's productpage sidecar in the seed scenario: the base the negative cases edit. */
function seedProductpage(): Promise<ProxyXds> {
  seedCache ??= goldenProxies(['seed-failover']).then((ps) => ps.find((p) => p.cluster === 'kind2' && /\/productpage-/.test(p.pod))!.xds())
  return seedCache
}
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T

describe('every golden proxy: Istio config → upstream Envoy 1.40 --mode validate', () => {
  it('the Envoy in use is 1.40.0 and knows exactly the extensions envoy-extensions.ts lists', async () => {
    const live = await envoyExtensionsOf(envoyBinary())
    expect(live.version).toContain(`/${ENVOY_EXTENSIONS_VERSION}/`)
    expect(live.names).toEqual([...ENVOY_EXTENSION_NAMES])
    expect(live.typeUrls).toEqual([...ENVOY_EXTENSION_TYPE_URLS])
  })

  it.each(goldenCases().map((c) => c.name))('%s: every sidecar and gateway', async (caseName) => {
    const proxies = await goldenProxies([caseName])
    expect(proxies.length).toBeGreaterThan(0)
    const failures = (
      await pool(proxies, 3, async (p: GoldenProxy) => {
        const xds = await p.xds()
        const bootstrap = staticBootstrap(xds, {secrets})
        // Nothing lost on the way: every listener and cluster Istio made is there, beside pilot-agent's own.
        expect(bootstrap.staticResources.listeners.length, `${p.cluster} ${p.pod}: listeners`).toBe(xds.listeners.length + 2)
        expect(bootstrap.staticResources.clusters.length, `${p.cluster} ${p.pod}: clusters`).toBe(xds.clusters.length + 3)
        const {ok, output} = await validateEnvoyConfig(bootstrap)
        return ok ? undefined : `${p.cluster} ${p.pod}: ${output.split('\n').filter((l) => !/Deprecated field/.test(l)).join(' ').slice(0, 600)}`
      })
    ).filter(Boolean)
    expect(failures).toEqual([])
  })
})

describe('the check has teeth', () => {
  it('the seed productpage carries the Istio-only filters (so the removal is exercised) and converts to a valid config', async () => {
    const xds = await seedProductpage()
    const {removed} = stripIstioOnly(xds)
    const kinds = new Set(removed.map((r) => `${r.name} ${r.typeUrl}`))
    expect(kinds).toEqual(new Set(['istio.metadata_exchange envoy.tcp.metadataexchange.config.MetadataExchange', 'istio.metadata_exchange io.istio.http.peer_metadata.Config', 'istio.alpn istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig']))
    expect(removed.some((r) => r.path.startsWith('clusters['))).toBe(true) // cluster-level MX filters too
    expect((await validateEnvoyConfig(staticBootstrap(xds, {secrets}))).ok).toBe(true)
  })

  it('Envoy refuses a wrong @type', async () => {
    const b = staticBootstrap(await seedProductpage(), {secrets})
    const hcm = b.staticResources.listeners.find((l: any) => l.name === '0.0.0.0_15090').filterChains[0].filters[0]
    hcm.typedConfig['@type'] = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy'
    const r = await validateEnvoyConfig(b)
    expect(r.ok).toBe(false)
    expect(r.output).toMatch(/TcpProxy|codecType|codec_type|route_config|routeConfig/)
  })

  it('Envoy refuses an unknown field', async () => {
    const b = staticBootstrap(await seedProductpage(), {secrets})
    b.staticResources.clusters.find((c: any) => c.name === 'outbound|9080||reviews.default.svc.cluster.local').outlierDetection.consecutiveErrorz = 1
    const r = await validateEnvoyConfig(b)
    expect(r.ok).toBe(false)
    expect(r.output).toContain('consecutiveErrorz')
  })

  it.each(ISTIO_ONLY_EXTENSIONS.map((e) => [e.name, e.typeUrl]))('Envoy refuses %s (%s): the removal is needed', async (name, typeUrl) => {
    // The valid config with that one filter put back where istiod puts filters: first HTTP filter of an outbound HCM.
    const b = staticBootstrap(await seedProductpage(), {secrets})
    const hcm = b.staticResources.listeners.find((l: any) => l.name === '0.0.0.0_9080').filterChains[0].filters[0].typedConfig
    const typedConfig = typeUrl.startsWith('envoy.tcp.') || typeUrl.startsWith('io.istio.') || typeUrl.startsWith('stats.')
      ? {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', typeUrl: `type.googleapis.com/${typeUrl}`, value: {}}
      : {'@type': `type.googleapis.com/${typeUrl}`}
    hcm.httpFilters.unshift({name, typedConfig})
    const r = await validateEnvoyConfig(b)
    expect(r.ok).toBe(false)
    expect(r.output).toContain(typeUrl)
  })

  it('an extension neither Envoy nor our list knows makes the conversion throw, naming the filter, the proxy and where', async () => {
    const xds = clone(await seedProductpage())
    const listener = xds.listeners.find((l) => l.name === '0.0.0.0_9080')!
    listener.filterChains[0].filters[0].typedConfig.httpFilters.unshift({name: 'acme.rate_limit', typedConfig: {'@type': 'type.googleapis.com/acme.RateLimit'}})
    expect(() => staticBootstrap(xds, {secrets})).toThrow(UnknownExtensionError)
    expect(() => staticBootstrap(xds, {secrets})).toThrow(/kind2\/default\/productpage-v1-\S+ \(sidecar\): filter 'acme\.rate_limit' with config type acme\.RateLimit at listeners\[0\.0\.0\.0_9080\]\.filterChains\[\d+\]/)
    // An Istio name on a config type we do not know is not removed either (exactly those, name and type).
    const disguised = clone(await seedProductpage())
    disguised.listeners.find((l) => l.name === '0.0.0.0_9080')!.filterChains[0].filters[0].typedConfig.httpFilters.unshift({name: 'istio.alpn', typedConfig: {'@type': 'type.googleapis.com/istio.envoy.config.filter.http.alpn.v3.Other'}})
    expect(() => staticBootstrap(disguised, {secrets})).toThrow(/filter 'istio\.alpn'/)
    // A TypedStruct is judged by what it wraps.
    const wrapped = clone(await seedProductpage())
    wrapped.clusters[0].filters = [{name: 'acme.peer', typedConfig: {'@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', typeUrl: 'type.googleapis.com/acme.Peer', value: {}}}]
    expect(() => stripIstioOnly(wrapped, ENVOY_1_40_EXTENSIONS)).toThrow(/filter 'acme\.peer' with config type acme\.Peer at clusters\[/)
  })
})
