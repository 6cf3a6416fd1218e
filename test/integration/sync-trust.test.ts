/**
 * The trust step of sync on its own three clusters: the seed's VirtualMesh applied as YAML, then sync gives kind2
 * and kind3 intermediates under one root kept in kind1 (checked with openssl), keeps them on the next sync without
 * a write, re-issues one about to expire (restarting istiod), merges kind2's trust domain into kind3's mesh config
 * (kind3's istiod here does not skip the check), says how to fix a registration that may not patch it, and undoes
 * it all when the VirtualMesh goes or the cluster is deregistered. The tests run in order and build on each other.
 */
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {issueIntermediate} from '../../src/trust/ca.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type AuditMarks, type SeededClusters, startSeededClusters} from '../support/clusters.js'
import {opensslVerify} from '../support/certs.js'
import {GOLDEN_DIR} from '../support/golden.js'

const SEED = join(GOLDEN_DIR, 'seed-failover')
const VM_ID = 'VirtualMesh/service-mesh-hub/virtual-mesh'
const KIND2 = 'istiod-istio-system-kind2'
const KIND3 = 'istiod-istio-system-kind3'
const USER_MESH = 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ntrustDomain: kind3\n# the user\'s own alias, which must stay\ntrustDomainAliases:\n  - legacy.example\n'
let env: SeededClusters
let kubeconfig: string
const smh = (args: string[], input?: string): Promise<CliResult> => runCli(args, {env: {KUBECONFIG: kubeconfig}, input})
const kubectl = (args: string[], input?: string) => execFileSync(binaryPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], {encoding: 'utf8', input})
const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig}), context)
const getJson = (context: string, ...what: string[]) => JSON.parse(kubectl(['--context', context, 'get', ...what, '-o', 'json']))
const text = (data: Record<string, string>, key: string) => Buffer.from(data[key], 'base64').toString('utf8')
const secretData = (context: string, namespace: string, name: string): Record<string, string> | undefined => {
  const out = kubectl(['--context', context, 'get', 'secret', '-n', namespace, name, '--ignore-not-found', '-o', 'json']).trim()
  return out ? Object.fromEntries(Object.entries(JSON.parse(out).data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined
}
const rootData = () => secretData('kind1', 'service-mesh-hub', 'virtual-mesh.service-mesh-hub')
const meshConfig = (context: string) => getJson(context, 'configmap', '-n', 'istio-system', 'istio')
const restartedAt = (context: string, deployment: string) => getJson(context, 'deployment', '-n', 'istio-system', deployment).spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] as string | undefined
const vmStatus = async () => JSON.parse((await smh(['get', 'vm', 'virtual-mesh', '-o', 'json'])).stdout).status

const writesSince = (mark: AuditMarks): Promise<string[]> => env.ourWritesSince(mark)

function expectNoPrivateKey(output: string, root: Record<string, string>) {
  expect(output).not.toContain('PRIVATE KEY')
  expect(output).not.toContain(Buffer.from(root['key.pem']).toString('base64').slice(0, 64))
  expect(output).not.toContain(root['key.pem'].split('\n')[1])
}

beforeAll(async () => {
  env = await startSeededClusters({audit: true})
  kubeconfig = env.kubeconfig
  // kind3's istiod checks trust domains (no PILOT_SKIP_VALIDATE_TRUST_DOMAIN), and its mesh config has an alias of the user's.
  kubectl(['--context', 'kind3', 'patch', 'deployment', '-n', 'istio-system', 'istiod', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/containers/0/env"}]'])
  kubectl(['--context', 'kind3', 'patch', 'configmap', '-n', 'istio-system', 'istio', '--type', 'merge', '-p', JSON.stringify({data: {mesh: USER_MESH}})])
  expect((await smh(['install'])).code).toBe(0)
  for (const cluster of ['kind2', 'kind3']) expect((await smh(['register', 'cluster', cluster, '--remote-context', cluster])).code).toBe(0)
}, 240_000)
afterAll(async () => {
  await env?.stop()
})

describe('the trust step of sync', () => {
  it('the seed VirtualMesh applied as YAML, then sync: one root in kind1, an intermediate per mesh under it, kind2 merged into kind3\'s aliases, istiod restarted', async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', join(SEED, 'input.yaml'), '-f', join(SEED, 'virtualmesh.yaml')])
    const result = await smh(['sync', '-o', 'json'])
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    const out = JSON.parse(result.stdout)
    expect(out.trust).toHaveLength(1)
    expect(out.trust[0]).toMatchObject({virtualMesh: VM_ID, root: 'generated', rootSecret: 'service-mesh-hub/virtual-mesh.service-mesh-hub'})
    const byMesh = Object.fromEntries(out.trust[0].meshes.map((m: {mesh: string}) => [m.mesh, m]))
    expect(byMesh[KIND2]).toMatchObject({action: 'issued', acceptsTrustDomains: {kind3: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN'}, changes: [], restarted: ['istio-system/istio-ingressgateway', 'istio-system/istiod']})
    expect(byMesh[KIND3]).toMatchObject({action: 'issued', acceptsTrustDomains: {kind2: 'trustDomainAliases'}, changes: ['kind3: trustDomainAliases += kind2']})

    const root = rootData()!
    expect(Object.keys(root).sort()).toEqual(['key.pem', 'root-cert.pem'])
    const cacerts = {kind2: secretData('kind2', 'istio-system', 'cacerts')!, kind3: secretData('kind3', 'istio-system', 'cacerts')!}
    for (const cluster of ['kind2', 'kind3'] as const) {
      expect(Object.keys(cacerts[cluster]).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'])
      expect(opensslVerify(root['root-cert.pem'], cacerts[cluster])).toMatch(/: OK$/)
      expect(cacerts[cluster]['root-cert.pem'].trim()).toBe(root['root-cert.pem'].trim())
    }
    expect(cacerts.kind2['ca-cert.pem']).not.toBe(cacerts.kind3['ca-cert.pem'])
    expect(cacerts.kind2['ca-key.pem']).not.toBe(cacerts.kind3['ca-key.pem'])
    // The root's key is in kind1 only: no Secret of kind2 or kind3 holds it.
    for (const cluster of ['kind2', 'kind3']) {
      for (const secret of getJson(cluster, 'secrets', '-A').items as {data?: Record<string, string>}[]) {
        for (const key of Object.keys(secret.data ?? {})) expect(text(secret.data!, key)).not.toContain(root['key.pem'].trim())
      }
    }

    // kind3 accepts kind2: merged, the user's alias and the rest of the YAML kept, ours recorded; kind2 (skips) untouched.
    const kind3Config = meshConfig('kind3')
    expect(parse(kind3Config.data.mesh)).toEqual({...parse(USER_MESH), trustDomainAliases: ['legacy.example', 'kind2']})
    expect(kind3Config.data.mesh).toContain("# the user's own alias, which must stay")
    expect(JSON.parse(kind3Config.metadata.annotations['smh.solo.io/trust-domain-aliases'])).toEqual({[VM_ID]: ['kind2']})
    expect(meshConfig('kind2').metadata.annotations?.['smh.solo.io/trust-domain-aliases']).toBeUndefined()
    // autoRestartPods (the seed's VirtualMesh sets it): istiod and the gateway of both meshes, as kubectl rollout restart.
    for (const cluster of ['kind2', 'kind3']) for (const d of ['istiod', 'istio-ingressgateway']) expect(restartedAt(cluster, d)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)

    const status = await vmStatus()
    expect(status.state).toBe('ACCEPTED')
    expect(status.trust).toMatchObject({rootSecret: 'service-mesh-hub/virtual-mesh.service-mesh-hub', rootFingerprint: out.trust[0].rootFingerprint,
      meshes: {[KIND2]: {cluster: 'kind2', trustDomain: 'kind2', acceptsTrustDomains: {kind3: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN'}},
        [KIND3]: {cluster: 'kind3', trustDomain: 'kind3', acceptsTrustDomains: {kind2: 'trustDomainAliases'}, intermediateNotAfter: byMesh[KIND3].notAfter}}})

    // No private key in what sync prints or stores.
    expectNoPrivateKey(result.stdout + result.stderr, root)
    const yaml = await smh(['sync', '-o', 'yaml'])
    expectNoPrivateKey(yaml.stdout + yaml.stderr, root)
    expectNoPrivateKey(kubectl(['--context', 'kind1', 'get', 'virtualmesh', '-n', 'service-mesh-hub', 'virtual-mesh', '-o', 'yaml']), root)
  }, 120_000)

  it('a second sync keeps every intermediate and makes no write request anywhere', async () => {
    const mark = env.markAudit()
    const result = await smh(['sync', '-o', 'json'])
    expect(result.code).toBe(0)
    const trust = JSON.parse(result.stdout).trust[0]
    expect(trust.root).toBe('kept')
    expect(trust.meshes.map((m: {action: string; changes: string[]; restarted: string[]}) => [m.action, m.changes, m.restarted])).toEqual([['kept', [], []], ['kept', [], []]])
    expect(await writesSince(mark)).toEqual([])
    const table = await smh(['sync'])
    expect(table.stdout).toMatch(/virtual-mesh\s+istiod-istio-system-kind3\s+kind3\s+kept\s+\d{4}-\d\d-\d\d\s+kind2 via aliases/)
  }, 60_000)

  it('an intermediate expiring within 30 days: the dry run reports its re-issue and writes nothing; sync re-issues it and restarts istiod', async () => {
    const root = rootData()!
    const past = new Date(Date.now() - 340 * 86_400_000)
    const shortLived = await issueIntermediate({certPem: root['root-cert.pem'], keyPem: root['key.pem']}, {trustDomain: 'kind3', istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster: 'kind3', now: past, rsaKeySizeBits: 2048})
    await client('kind3').apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cacerts', namespace: 'istio-system'},
      data: Object.fromEntries(Object.entries(shortLived).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))} as never, {force: true})
    const before = {kind2: restartedAt('kind2', 'istiod'), kind3: restartedAt('kind3', 'istiod'), kind2Cert: secretData('kind2', 'istio-system', 'cacerts')!['ca-cert.pem']}

    const mark = env.markAudit()
    const dry = await smh(['sync', '--dry-run', '-o', 'json'])
    expect(dry.code).toBe(0)
    const planned = JSON.parse(dry.stdout).trust[0]
    const kind3 = planned.meshes.find((m: {mesh: string}) => m.mesh === KIND3)
    expect(kind3).toMatchObject({action: 'reissued', restarted: ['istio-system/istio-ingressgateway', 'istio-system/istiod']})
    expect(kind3.reason).toMatch(/^expires in 2\d days$/)
    expect(planned.meshes.find((m: {mesh: string}) => m.mesh === KIND2).action).toBe('kept')
    const dryTable = await smh(['sync', '--dry-run'])
    expect(dryTable.stdout).toMatch(/istiod-istio-system-kind3\s+kind3\s+to be reissued \(expires in 2\d days\)/)
    expect(dryTable.stdout).toContain('to restart istio-system/istio-ingressgateway, istio-system/istiod')
    expect(await writesSince(mark)).toEqual([])
    expect(secretData('kind3', 'istio-system', 'cacerts')!['ca-cert.pem']).toBe(shortLived['ca-cert.pem'])

    const result = await smh(['sync', '-o', 'json'])
    expect(result.code).toBe(0)
    const done = JSON.parse(result.stdout).trust[0].meshes.find((m: {mesh: string}) => m.mesh === KIND3)
    expect(done.action).toBe('reissued')
    expect(new Date(done.notAfter).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000)
    const cacerts = secretData('kind3', 'istio-system', 'cacerts')!
    expect(cacerts['ca-cert.pem']).not.toBe(shortLived['ca-cert.pem'])
    expect(opensslVerify(root['root-cert.pem'], cacerts)).toMatch(/: OK$/)
    expect(restartedAt('kind3', 'istiod')).not.toBe(before.kind3)
    // kind2's intermediate was kept: not re-issued, istiod not restarted.
    expect(secretData('kind2', 'istio-system', 'cacerts')!['ca-cert.pem']).toBe(before.kind2Cert)
    expect(restartedAt('kind2', 'istiod')).toBe(before.kind2)
  }, 120_000)

  it('a registration that may not patch the mesh config (made before): exit 1, the VirtualMesh FAILED with the fix; re-registering repairs it', async () => {
    // As an older kubectl-smh registered it (the same field manager): get only on the mesh config.
    const role = getJson('kind3', 'role', '-n', 'istio-system', 'kubectl-smh-kind3')
    const rules = role.rules.map((r: {resources: string[]; verbs: string[]}) => (r.resources.includes('configmaps') ? {...r, verbs: ['get']} : r))
    await client('kind3').apply({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {name: role.metadata.name, namespace: 'istio-system', labels: role.metadata.labels}, rules} as never)
    // Someone took our alias out: the step must put it back and may not.
    const cm = meshConfig('kind3')
    kubectl(['--context', 'kind3', 'patch', 'configmap', '-n', 'istio-system', 'istio', '--type', 'merge', '-p', JSON.stringify({data: {mesh: USER_MESH}})])
    expect(cm.metadata.annotations['smh.solo.io/trust-domain-aliases']).toBeDefined()

    const result = await smh(['sync'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/Error: sync failed in cluster kind3/)
    expect(result.stderr).toContain('kubectl smh register cluster kind3 --remote-context kind3')
    const status = await vmStatus()
    expect(status.state).toBe('FAILED')
    const line = status.errors.find((e: string) => e.includes('trust domain kind2'))
    expect(line).toContain(`mesh ${KIND3} (cluster "kind3")`)
    expect(line).toContain('re-register with kubectl smh register cluster kind3 --remote-context kind3')
    expect(line).toContain('PILOT_SKIP_VALIDATE_TRUST_DOMAIN=true')
    expect(status.trust.meshes[KIND3].acceptsTrustDomains).toEqual({kind2: 'missing'})

    expect((await smh(['register', 'cluster', 'kind3', '--remote-context', 'kind3'])).code).toBe(0)
    const repaired = await smh(['sync'])
    expect(repaired.stderr).not.toContain('Error')
    expect(repaired.code).toBe(0)
    expect(parse(meshConfig('kind3').data.mesh).trustDomainAliases).toEqual(['legacy.example', 'kind2'])
    expect((await vmStatus()).state).toBe('ACCEPTED')
  }, 120_000)

  it('deleting the VirtualMesh removes its cacerts, exactly the aliases it added, and its generated root', async () => {
    const result = await smh(['delete', 'vm', 'virtual-mesh', '-o', 'json'])
    expect(result.stderr).not.toContain('Error')
    expect(result.code).toBe(0)
    expect(secretData('kind2', 'istio-system', 'cacerts')).toBeUndefined()
    expect(secretData('kind3', 'istio-system', 'cacerts')).toBeUndefined()
    const config = meshConfig('kind3')
    expect(parse(config.data.mesh)).toEqual(parse(USER_MESH))
    expect(config.data.mesh).toContain("# the user's own alias, which must stay")
    expect(config.metadata.annotations?.['smh.solo.io/trust-domain-aliases']).toBeUndefined()
    expect(rootData()).toBeUndefined()
    const removed = JSON.parse(result.stdout).sync.trustRemoved.map((r: {cluster: string; change: string}) => `${r.cluster}: ${r.change}`)
    expect(removed).toEqual(expect.arrayContaining([
      expect.stringMatching(/^kind3: trustDomainAliases -= kind2 in ConfigMap istio-system\/istio/),
      expect.stringMatching(/^kind2: deleted Secret istio-system\/cacerts \(VirtualMesh\/service-mesh-hub\/virtual-mesh is gone/),
      expect.stringMatching(/^management: deleted Secret service-mesh-hub\/virtual-mesh.service-mesh-hub/),
    ]))
    // Nothing left to undo: the next sync writes nothing.
    const mark = env.markAudit()
    expect((await smh(['sync'])).code).toBe(0)
    expect(await writesSince(mark)).toEqual([])
  }, 120_000)

  it('deregister removes our cacerts and our aliases in that cluster', async () => {
    kubectl(['--context', 'kind1', 'apply', '-f', join(SEED, 'virtualmesh.yaml')])
    expect((await smh(['sync'])).code).toBe(0)
    expect(secretData('kind3', 'istio-system', 'cacerts')).toBeDefined()
    expect(parse(meshConfig('kind3').data.mesh).trustDomainAliases).toEqual(['legacy.example', 'kind2'])
    const result = await smh(['deregister', 'cluster', 'kind3', '-o', 'json'])
    expect(result.code).toBe(0)
    const removed: string[] = JSON.parse(result.stdout).removed
    expect(removed).toContain('kind3: Secret/istio-system/cacerts')
    expect(removed).toContain('kind3: ConfigMap/istio-system/istio: trustDomainAliases -= kind2')
    expect(secretData('kind3', 'istio-system', 'cacerts')).toBeUndefined()
    expect(parse(meshConfig('kind3').data.mesh)).toEqual(parse(USER_MESH))
    expect(meshConfig('kind3').metadata.annotations?.['smh.solo.io/trust-domain-aliases']).toBeUndefined()
  }, 120_000)
})
