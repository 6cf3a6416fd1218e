import 'reflect-metadata'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import * as x509 from '@peculiar/x509'
import {afterAll, describe, expect, it} from 'vitest'

import {captureRules} from '../../../src/dataplane/capture.js'
import {caFromCacerts, issueWorkloadCert, selfSignedCa, writeCertFiles} from '../../../src/dataplane/certs.js'
import {envoyPath} from '../../../src/dataplane/proxy.js'
import {minimalBootstrap} from '../../../src/dataplane/minimal-config.js'
import {podNetworkNames} from '../../../src/dataplane/netns.js'
import type {DataPlanePod, DataPlaneService} from '../../../src/dataplane/topology.js'
import {summarize} from '../../../src/dataplane/traffic.js'
import {generateRoot, issueIntermediate} from '../../../src/trust/ca.js'

const tmp = mkdtempSync(join(tmpdir(), 'smh-dp-unit-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('capture', () => {
  it("is istio-init's REDIRECT rule set, in its order (notes/dataplane.md §1)", () => {
    const nat = captureRules().split('COMMIT')[0].split('\n').filter((l) => l.startsWith('-A'))
    expect(nat).toEqual([
      '-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN',
      '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
      '-A PREROUTING -p tcp -j ISTIO_INBOUND',
      '-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN',
      '-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN',
      '-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN',
      '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
      '-A OUTPUT -j ISTIO_OUTPUT',
      '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
      '-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT',
      '-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT',
      '-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
      '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    ])
  })

  it('names links within 15 characters and namespaces with the smh- prefix', () => {
    const names = podNetworkNames('a-very-long-cluster-name', 'default', 'reviews-v1-abcdefghij-klmno')
    expect(names.netns).toBe('smh-a-very-long-cluster-name-default-reviews-v1-abcdefghij-klmno')
    expect(names.hostLink).toMatch(/^smh[0-9a-f]{8}h$/)
  })
})

const pod = (over: Partial<DataPlanePod> = {}): DataPlanePod => ({
  cluster: 'kind2', namespace: 'default', name: 'productpage-v1-x-y', deployment: 'productpage-v1', app: 'productpage', version: 'v1',
  serviceAccount: 'bookinfo-productpage', labels: {app: 'productpage'}, kind: 'sidecar', addresses: ['10.246.7.12'], ports: [9080],
  netns: 'smh-x', hostLink: 'smh00000000h', ...over,
})
const reviews: DataPlaneService = {cluster: 'kind2', namespace: 'default', name: 'reviews', vip: '10.96.2.16', selector: {app: 'reviews'}, ports: [{port: 9080, targetPort: 9080}], endpoints: ['10.246.5.12', '10.246.6.12'], loadBalancer: []}

describe('the minimal Envoy config', () => {
  it("passes real Envoy's --mode validate, for a sidecar and a gateway", () => {
    const envoy = envoyPath()
    if (!existsSync(envoy)) throw new Error(`Envoy is needed at ${envoy}: bash test/env/build-tools.sh envoy, or KUBECTL_SMH_ENVOY`)
    for (const p of [pod(), pod({kind: 'gateway', name: 'istio-ingressgateway-a-b', addresses: ['10.246.2.12', '10.246.255.1'], ports: [8080, 8443, 15443]})]) {
      const file = join(tmp, `${p.kind}.json`)
      writeFileSync(file, JSON.stringify(minimalBootstrap(p, [reviews])))
      expect(execFileSync(envoy, ['--mode', 'validate', '-c', file, '--disable-hot-restart', '--log-level', 'error'], {encoding: 'utf8'})).toMatch(/OK/)
    }
  })

  it('routes a VIP to the pods behind it, anything else to the original destination, inbound to the app', () => {
    const config = minimalBootstrap(pod(), [reviews]) as {static_resources: {clusters: {name: string; load_assignment?: unknown}[]; listeners: {name: string; filter_chains: {filter_chain_match?: unknown}[]}[]}}
    const names = config.static_resources.clusters.map((c) => c.name)
    expect(names).toEqual(['prometheus_stats', 'outbound|9080||reviews.default.svc.cluster.local', 'PassthroughCluster', 'inbound|9080||'])
    expect(JSON.stringify(config.static_resources.clusters[1])).toContain('10.246.6.12')
    const outbound = config.static_resources.listeners.find((l) => l.name === 'virtualOutbound')!
    expect(outbound.filter_chains[0].filter_chain_match).toEqual({prefix_ranges: [{address_prefix: '10.96.2.16', prefix_len: 32}], destination_port: 9080})
  })
})

describe('workload certificates', () => {
  it("are SPIFFE leaf certificates under cacerts' intermediate, verifying to the root; the key file is 0600", async () => {
    const root = await generateRoot({algorithm: 'ecdsa'})
    const plugin = await issueIntermediate(root, {trustDomain: 'kind2', istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster: 'kind2'})
    const ca = caFromCacerts(Object.fromEntries(Object.entries(plugin).map(([k, v]) => [k, Buffer.from(v).toString('base64')])))!
    expect(ca.source).toBe('cacerts')
    const {chainPem, keyPem} = await issueWorkloadCert(ca, 'spiffe://kind2/ns/default/sa/bookinfo-reviews')
    const dir = join(tmp, 'certs')
    writeCertFiles(dir, {chainPem, keyPem, rootPem: ca.rootPem})
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600)
    const leaf = new x509.X509Certificate(chainPem)
    expect(leaf.subject).toBe('')
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([{type: 'url', value: 'spiffe://kind2/ns/default/sa/bookinfo-reviews'}])
    expect(leaf.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false)
    const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root-cert.pem'), '-untrusted', join(dir, 'cert-chain.pem'), join(dir, 'cert-chain.pem')], {encoding: 'utf8'})
    expect(out).toContain(': OK')
    expect(readFileSync(join(dir, 'root-cert.pem'), 'utf8').trim()).toBe(root.certPem.trim())
  })

  it("without cacerts, a cluster's own CA, made once and kept (key 0600)", async () => {
    const dir = join(tmp, 'ca', 'kind3')
    const first = await selfSignedCa('kind3', dir)
    const again = await selfSignedCa('kind3', dir)
    expect(again.fingerprint).toBe(first.fingerprint)
    expect(statSync(join(dir, 'root-key.pem')).mode & 0o777).toBe(0o600)
    const {chainPem} = await issueWorkloadCert(first, 'spiffe://kind3/ns/default/sa/bookinfo-reviews')
    expect(new x509.X509Certificate(chainPem).issuer).toBe(new x509.X509Certificate(first.certPem).subject)
  })
})

describe('traffic summary', () => {
  it('counts answers per cluster/pod with their codes, most first', () => {
    const s = summarize([
      {code: 200, cluster: 'kind2', pod: 'a', version: 'v1', ms: 1},
      {code: 503, cluster: 'kind2', pod: 'b', version: 'v2', ms: 1},
      {code: 200, cluster: 'kind2', pod: 'b', version: 'v2', ms: 1},
      {code: 0, error: 'ECONNREFUSED', ms: 1},
    ])
    expect(s.codes).toEqual({0: 1, 200: 2, 503: 1})
    expect(s.by.map((b) => [b.pod, b.count, b.codes])).toEqual([['b', 2, {200: 1, 503: 1}], ['-', 1, {0: 1}], ['a', 1, {200: 1}]])
  })
})

describe('address checks', () => {
  it('refuse to start when an address does not resolve to its own link (`ip route get`)', async () => {
    const {checkAddressesRouted} = await import('../../../src/dataplane/addresses.js')
    expect(() => checkAddressesRouted([{address: '10.246.3.12', link: 'smh00000000h'}])).toThrow(/`ip route get 10\.246\.3\.12` resolves to \S+, not to its own link smh00000000h: refusing to start/)
  })
})
