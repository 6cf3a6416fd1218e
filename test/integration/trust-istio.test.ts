/**
 * Istio's own code accepts our certificates (issue 8): the trust step writes `cacerts` on the shared clusters, and
 * the oracle (`oracle plugged-ca`, test/oracle/pluggedca.go) loads each with Istio's plugged-CA loader — what istiod
 * runs at start on /etc/cacerts — has that CA sign a workload certificate as istio-agent asks for one, and verifies
 * it against the shared root with the workload's SPIFFE identity, and under the other mesh's root bundle.
 * Bundles Istio must refuse (a ca-cert of another root, a key of another cert, a missing file) are refused.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, inject, it} from 'vitest'

import {loadResources} from '../../src/api/load.js'
import type {VirtualMesh} from '../../src/api/types.js'
import {discoverCluster} from '../../src/discovery/discover.js'
import type {Mesh} from '../../src/discovery/types.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {readClusterObjects} from '../../src/kube/snapshot.js'
import {syncTrust} from '../../src/services/trust.js'
import {type PluginCaFiles, generateRoot, issueIntermediate} from '../../src/trust/ca.js'
import {OracleError, runPluggedCa} from '../oracle/oracle.js'
import {GOLDEN_DIR} from '../support/golden.js'

const CLUSTERS = ['kind2', 'kind3'] as const
const FILES = ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const
const USER_ROOT = 'ecdsa-root'

const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig: inject('kubeconfig')}), context)
type Secret = {apiVersion: string; kind: string; metadata: {name: string}; type: string; data: Record<string, string>}
const secret = (context: string, namespace: string, name: string) =>
  client(context).objects.read<Secret>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})
const text = (data: Record<string, string>, key: string) => Buffer.from(data[key], 'base64').toString('utf8')
const base64 = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))

/** Folders for the oracle, in one 0700 temp dir removed by cleanup (the keys are real keys of the test clusters). */
const tempDirs: string[] = []
function writeBundles(bundles: Record<string, Partial<PluginCaFiles>>): Record<string, string> {
  const base = mkdtempSync(join(tmpdir(), 'smh-cacerts-')) // mode 0700
  tempDirs.push(base)
  const dirs: Record<string, string> = {}
  for (const [name, files] of Object.entries(bundles)) {
    const dir = join(base, name)
    execFileSync('mkdir', ['-m', '0700', dir])
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content!, {mode: 0o600})
    dirs[name] = dir
  }
  return dirs
}

async function readCacerts(cluster: string): Promise<PluginCaFiles> {
  const s = await secret(cluster, 'istio-system', 'cacerts')
  return Object.fromEntries(FILES.map((f) => [f, text(s.data, f)])) as unknown as PluginCaFiles
}

async function setup() {
  const vm = (await loadResources([`${GOLDEN_DIR}/seed-failover/virtualmesh.yaml`])).resources[0].resource as VirtualMesh
  const meshes: Mesh[] = []
  for (const cluster of CLUSTERS) meshes.push(...discoverCluster(cluster, await readClusterObjects(client(cluster))).meshes)
  await client('kind1').apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'service-mesh-hub'}} as never)
  return {vm, meshes, clients: new Map(CLUSTERS.map((c) => [c, client(c)]))}
}

/** `openssl verify -CAfile root-cert.pem ca-cert.pem` in the bundle's folder: its one line of output. */
const opensslVerify = (dir: string) => execFileSync('openssl', ['verify', '-CAfile', 'root-cert.pem', 'ca-cert.pem'], {cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()

const identity = (mesh: Mesh) => `spiffe://${mesh.trustDomain}/ns/default/sa/bookinfo-reviews`

afterAll(async () => {
  for (const dir of tempDirs) rmSync(dir, {recursive: true, force: true})
  for (const [context, namespace, name] of [['kind1', 'service-mesh-hub', 'virtual-mesh.service-mesh-hub'], ['kind1', 'service-mesh-hub', USER_ROOT],
    ['kind2', 'istio-system', 'cacerts'], ['kind3', 'istio-system', 'cacerts']]) {
    await client(context).objects.delete({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}} as never).catch(() => undefined)
  }
})

describe("Istio's plugged-CA code on the cacerts the trust step writes", () => {
  it('loads both meshes\' cacerts, signs workload certificates that verify under the shared root with their SPIFFE identity, and across meshes', async () => {
    const {vm, meshes, clients} = await setup()
    const trust = await syncTrust({mgmt: client('kind1'), virtualMesh: vm, meshes, clients})
    expect(trust.meshes.map((m) => m.action)).toEqual(['issued', 'issued'])

    const bundles = Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c, await readCacerts(c)] as const)))
    const dirs = writeBundles(bundles)
    for (const c of CLUSTERS) expect(opensslVerify(dirs[c])).toBe('ca-cert.pem: OK')

    const byCluster = new Map(meshes.map((m) => [m.cluster, m]))
    const result = await runPluggedCa({dirs, identities: Object.fromEntries(CLUSTERS.map((c) => [c, identity(byCluster.get(c)!)]))})
    expect(result.errors).toEqual([])
    expect(result.bundles.map((b) => [b.name, b.loaded])).toEqual([['kind2', true], ['kind3', true]])
    for (const b of result.bundles) {
      const mesh = byCluster.get(b.name)!
      // One root for both, the one the management cluster keeps; an intermediate of its own per mesh.
      expect(b.root?.fingerprint).toBe(trust.rootFingerprint)
      expect(b.root?.keyAlgorithm).toBe('RSA 4096')
      expect(b.caCert).toMatchObject({isCA: true, keyAlgorithm: 'RSA 4096', subject: expect.stringContaining(`L=${b.name}`),
        uris: [`spiffe://${mesh.trustDomain}/ns/${mesh.installationNamespace}/sa/${mesh.istiodServiceAccount}`]})
      // The workload certificate Istio's CA signed: the identity as its only SAN, verified leaf → intermediate → root.
      expect(b.workload).toMatchObject({identity: identity(mesh), verified: true, identityMatches: true, istioVerified: true})
      expect(b.workload?.certificate).toMatchObject({isCA: false, uris: [identity(mesh)], issuer: b.caCert?.subject})
      expect(b.workload?.verifiedChain).toEqual([b.workload?.certificate.subject, b.caCert?.subject, b.root?.subject])
      expect(b.defaultWorkloadTTL).toBe('24h2m0s') // istiod's default 24 h, from now − 2 min
    }
    expect(result.bundles[0].caCert?.fingerprint).not.toBe(result.bundles[1].caCert?.fingerprint)
    // The point of one root: a kind2 workload's certificate is trusted by kind3's root bundle, and the other way.
    expect(result.cross).toEqual([{workload: 'kind2', root: 'kind3', verified: true}, {workload: 'kind3', root: 'kind2', verified: true}])
  }, 120_000)

  it('an ECDSA P-256 root (the user\'s own, from rootCertificateAuthority.secret) gives intermediates Istio loads too', async () => {
    const {vm, meshes, clients} = await setup()
    const root = await generateRoot({algorithm: 'ecdsa'})
    await client('kind1').apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: USER_ROOT, namespace: 'service-mesh-hub'},
      data: base64({'root-cert.pem': root.certPem, 'key.pem': root.keyPem})} as never)
    const userVm = {...vm, spec: {...vm.spec, mtlsConfig: {...vm.spec.mtlsConfig, shared: {rootCertificateAuthority: {secret: {name: USER_ROOT, namespace: 'service-mesh-hub'}}}}}} as VirtualMesh
    const trust = await syncTrust({mgmt: client('kind1'), virtualMesh: userVm, meshes, clients})
    // The RSA intermediates left by the test before are of another root: both re-issued under the ECDSA one.
    expect(trust.meshes.map((m) => [m.action, m.reason])).toEqual([['reissued', 'does not chain to the current root'], ['reissued', 'does not chain to the current root']])

    const dirs = writeBundles(Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c, await readCacerts(c)] as const))))
    for (const c of CLUSTERS) expect(opensslVerify(dirs[c])).toBe('ca-cert.pem: OK')
    const byCluster = new Map(meshes.map((m) => [m.cluster, m]))
    for (const workloadKey of ['ecdsa', 'rsa'] as const) {
      const result = await runPluggedCa({dirs, identities: Object.fromEntries(CLUSTERS.map((c) => [c, identity(byCluster.get(c)!)])), workloadKey})
      expect(result.errors).toEqual([])
      for (const b of result.bundles) {
        expect(b.root?.fingerprint).toBe(trust.rootFingerprint)
        expect([b.root?.keyAlgorithm, b.caCert?.keyAlgorithm]).toEqual(['ECDSA P-256', 'ECDSA P-256'])
        expect(b.workload).toMatchObject({verified: true, identityMatches: true, istioVerified: true})
        expect(b.workload?.certificate.keyAlgorithm).toBe(workloadKey === 'ecdsa' ? 'ECDSA P-256' : 'RSA 2048')
      }
      expect(result.cross.map((x) => x.verified)).toEqual([true, true])
    }
  }, 120_000)
})

describe("Istio's plugged-CA loader refuses bundles istiod would not start with", () => {
  // Made here (RSA 2048 to keep it quick): the loader's checks do not depend on the key size.
  async function fixtures() {
    const ours = await generateRoot({rsaKeySizeBits: 2048})
    const stranger = await generateRoot({rsaKeySizeBits: 2048})
    const opts = (cluster: string) => ({trustDomain: cluster, istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster, rsaKeySizeBits: 2048})
    return {kind2: await issueIntermediate(ours, opts('kind2')), kind3: await issueIntermediate(ours, opts('kind3')), foreign: await issueIntermediate(stranger, opts('kind3'))}
  }

  it('a ca-cert that does not chain to root-cert, a ca-key of another certificate, a missing file', async () => {
    const {kind2, kind3, foreign} = await fixtures()
    const dirs = writeBundles({
      // ca-cert.pem and ca-key.pem of another root's intermediate (a matching pair), our chain and root.
      otherRoot: {...kind2, 'ca-cert.pem': foreign['ca-cert.pem'], 'ca-key.pem': foreign['ca-key.pem']},
      otherKey: {...kind2, 'ca-key.pem': kind3['ca-key.pem']},
      missing: {'ca-cert.pem': kind2['ca-cert.pem'], 'ca-key.pem': kind2['ca-key.pem'], 'root-cert.pem': kind2['root-cert.pem']},
      good: kind3,
    })
    expect(() => opensslVerify(dirs.otherRoot)).toThrow()
    const result = await runPluggedCa({dirs, allowErrors: true})
    expect(result.bundles.map((b) => [b.name, b.loaded])).toEqual([['otherRoot', false], ['otherKey', false], ['missing', false], ['good', true]])
    const [otherRoot, otherKey, missing] = result.bundles
    expect(otherRoot.loadError).toMatch(/cannot verify the cert with the provided root chain/)
    expect(otherKey.loadError).toMatch(/does not match the key/)
    expect(missing.loadError).toMatch(/incomplete signing CA bundle: cert-chain\.pem missing/)
    for (const b of [otherRoot, otherKey, missing]) expect(b.workload).toBeUndefined()
    expect(result.errors).toHaveLength(3)
    expect(result.errors[0]).toMatch(/^otherRoot: Istio's plugged-CA loader refused /)
    // Without allowErrors the refusal rejects, with Istio's words.
    await expect(runPluggedCa({dirs: {otherKey: dirs.otherKey}})).rejects.toThrow(OracleError)
    await expect(runPluggedCa({dirs: {otherKey: dirs.otherKey}})).rejects.toThrow(/the cert does not match the key/)
  }, 120_000)

  it('two roots: each bundle loads alone, but a workload of one is not trusted under the other\'s root', async () => {
    const {kind2, foreign} = await fixtures()
    const dirs = writeBundles({kind2, kind3: foreign})
    const result = await runPluggedCa({dirs, allowErrors: true})
    expect(result.bundles.map((b) => [b.loaded, b.workload?.verified])).toEqual([[true, true], [true, true]])
    expect(result.cross.map((x) => [x.workload, x.root, x.verified])).toEqual([['kind2', 'kind3', false], ['kind3', 'kind2', false]])
    expect(result.cross[0].error).toMatch(/certificate signed by unknown authority/)
    expect(result.errors).toHaveLength(2)
  }, 120_000)
})
