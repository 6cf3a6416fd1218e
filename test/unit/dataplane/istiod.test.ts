/**
 * The istiod stand-in's decisions, without clusters, Envoy or the oracle (src/dataplane/istiod.ts): what it reads
 * into a cluster's inputs (snapshot, ours, istiod's env, the fingerprint), when the loop regenerates and which proxies,
 * how it calls the oracle and reads its answer, the versioned certificate folders Envoy's secrets point at, and the
 * inotify limit it raises and puts back.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {CERT_FILES} from '../../../src/dataplane/certs.js'
import {
  certCopiesToPrune, certVersionName, clusterInputsOf, generatedSince, generationKey, inotifyRaise, type IstiodStatus, type Obj,
  oracleInvocation, parseOracleOutput, pilotEnv, proxiesOf, pruneVersionedCerts, raiseInotifyInstances, restoreInotifyInstances, versionedCerts,
} from '../../../src/dataplane/istiod.js'
import {SmhError} from '../../../src/errors.js'

const tmp = mkdtempSync(join(tmpdir(), 'smh-istiod-unit-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

const obj = (apiVersion: string, kind: string, ns: string | undefined, name: string, rv: string, labels?: Record<string, string>): Obj =>
  ({apiVersion, kind, metadata: {name, ...(ns ? {namespace: ns} : {}), resourceVersion: rv, ...(labels ? {labels} : {}), managedFields: [{manager: 'kubectl-smh'}]}, spec: {}})
const OURS = {'app.kubernetes.io/managed-by': 'kubectl-smh'}

const istiodDeployment = (containers: any[], rv = '7'): Obj =>
  ({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'istiod', namespace: 'istio-system', resourceVersion: rv}, spec: {template: {spec: {containers}}}})
const meshConfig = (rv = '3'): Obj => ({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: 'istio-system', resourceVersion: rv}, data: {mesh: 'trustDomain: kind3\ntrustDomainAliases: [kind2]\n'}} as Obj)

/** A world as readClusterInputs lists it: a Service, a Pod, our VirtualService, a user's DestinationRule. */
const world = (rv: Partial<Record<'svc' | 'pod' | 'vs' | 'dr', string>> = {}): Obj[] => [
  obj('v1', 'Service', 'default', 'reviews', rv.svc ?? '10'),
  obj('v1', 'Pod', 'default', 'reviews-v1-abc', rv.pod ?? '11'),
  obj('networking.istio.io/v1', 'VirtualService', 'default', 'reviews', rv.vs ?? '12', OURS),
  obj('networking.istio.io/v1', 'DestinationRule', 'default', 'user-dr', rv.dr ?? '13'),
]

describe("a cluster's inputs (what istiod reads)", () => {
  it('the snapshot holds every object and the mesh ConfigMap, without managedFields; ours are our Istio objects only', () => {
    const listed = [...world(), obj('v1', 'ConfigMap', 'default', 'labelled-but-not-istio', '14', OURS)]
    const inputs = clusterInputsOf('kind3', listed, meshConfig(), istiodDeployment([]))
    expect(inputs.cluster).toBe('kind3')
    expect(inputs.snapshot.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/reviews', 'Pod/reviews-v1-abc', 'VirtualService/reviews', 'DestinationRule/user-dr', 'ConfigMap/labelled-but-not-istio', 'ConfigMap/istio',
    ])
    expect(inputs.snapshot.every((o) => o.metadata.managedFields === undefined)).toBe(true)
    expect(inputs.snapshot.at(-1)).toMatchObject({apiVersion: 'v1', kind: 'ConfigMap', data: {mesh: expect.stringContaining('trustDomainAliases: [kind2]')}})
    // Ours: Istio objects labelled managed-by kubectl-smh (not the user's DestinationRule, not a labelled ConfigMap).
    expect(inputs.ours.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['VirtualService/reviews'])
  })

  it("istiod's env: plain PILOT_* values of its discovery container; valueFrom and other variables are not read", () => {
    const env = pilotEnv(istiodDeployment([
      {name: 'sidecar', env: [{name: 'PILOT_FROM_OTHER_CONTAINER', value: 'x'}]},
      {name: 'discovery', env: [
        {name: 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN', value: 'true'},
        {name: 'PILOT_ENABLE_ALPN_FILTER', value: 'false'},
        {name: 'PILOT_CERT_PROVIDER', valueFrom: {fieldRef: {fieldPath: 'x'}}},
        {name: 'CLUSTER_ID', value: 'kind2'},
      ]},
    ]))
    expect(env).toEqual({PILOT_SKIP_VALIDATE_TRUST_DOMAIN: 'true', PILOT_ENABLE_ALPN_FILTER: 'false'})
    // No container named discovery: the first container's.
    expect(pilotEnv(istiodDeployment([{name: 'istiod', env: [{name: 'PILOT_X', value: '1'}]}]))).toEqual({PILOT_X: '1'})
    expect(pilotEnv(undefined)).toEqual({})
    expect(clusterInputsOf('kind2', [], undefined, istiodDeployment([{name: 'discovery', env: [{name: 'PILOT_X', value: '1'}]}])).env).toEqual({PILOT_X: '1'})
  })

  it('the fingerprint names every object at its resourceVersion and istiod, in a stable order', () => {
    const a = clusterInputsOf('kind2', world(), meshConfig(), istiodDeployment([]))
    expect(a.fingerprint.split('\n')).toEqual([
      'ConfigMap/istio-system/istio@3', 'DestinationRule/default/user-dr@13', 'Pod/default/reviews-v1-abc@11', 'Service/default/reviews@10',
      'VirtualService/default/reviews@12', 'istiod@7',
    ])
    // Listing order does not matter; a new resourceVersion anywhere (ours, the user's, a Pod, istiod, the mesh) does.
    expect(clusterInputsOf('kind2', world().reverse(), meshConfig(), istiodDeployment([])).fingerprint).toBe(a.fingerprint)
    for (const changed of [
      clusterInputsOf('kind2', world({vs: '99'}), meshConfig(), istiodDeployment([])),
      clusterInputsOf('kind2', world({dr: '99'}), meshConfig(), istiodDeployment([])),
      clusterInputsOf('kind2', world({pod: '99'}), meshConfig(), istiodDeployment([])),
      clusterInputsOf('kind2', world(), meshConfig('99'), istiodDeployment([])),
      clusterInputsOf('kind2', world(), meshConfig(), istiodDeployment([], '99')),
      clusterInputsOf('kind2', world().slice(1), meshConfig(), istiodDeployment([])),
    ]) expect(changed.fingerprint).not.toBe(a.fingerprint)
  })
})

describe('which proxies the loop regenerates', () => {
  const pods = [
    {cluster: 'kind2', name: 'productpage-v1-x', kind: 'sidecar'},
    {cluster: 'kind3', name: 'reviews-v3-y', kind: 'sidecar'},
    {cluster: 'kind2', name: 'istio-ingressgateway-z', kind: 'gateway'},
  ]

  it('a change in one cluster regenerates every proxy of that cluster and none of the other', () => {
    const seen = new Map<string, string>()
    const keyOf = (cluster: string, objects: Obj[], ca = 'ca-1') => generationKey(clusterInputsOf(cluster, objects, meshConfig(), istiodDeployment([])).fingerprint, ca)
    for (const c of ['kind2', 'kind3']) seen.set(c, keyOf(c, world()))
    // A sync rewrote kind2's VirtualService: kind2's key changes, kind3's does not.
    const now = {kind2: keyOf('kind2', world({vs: '20'})), kind3: keyOf('kind3', world())}
    const regenerate = Object.entries(now).filter(([c, k]) => seen.get(c) !== k).map(([c]) => c)
    expect(regenerate).toEqual(['kind2'])
    expect(proxiesOf(pods, 'kind2').map((p) => p.name)).toEqual(['productpage-v1-x', 'istio-ingressgateway-z'])
    expect(proxiesOf(pods, 'kind3').map((p) => p.name)).toEqual(['reviews-v3-y'])
  })

  it("a new CA for a cluster (a virtual mesh wrote cacerts) regenerates it even when no object changed", () => {
    expect(generationKey('objects', 'ca-1')).toBe(generationKey('objects', 'ca-1'))
    expect(generationKey('objects', 'ca-2')).not.toBe(generationKey('objects', 'ca-1'))
    expect(generationKey('objects', undefined)).not.toBe(generationKey('objects', 'ca-1'))
    expect(generationKey('objects', undefined)).toBe('objects\nca@')
  })

  it('waiting for a generation: every named cluster past the generation given', () => {
    const status: IstiodStatus = {pid: 1, updatedAt: '', clusters: {
      kind2: {generation: 3, at: '', proxies: 6, written: 2, ms: 900, errors: []},
      kind3: {generation: 1, at: '', proxies: 7, written: 0, ms: 800, errors: []},
    }}
    expect(generatedSince(undefined, ['kind2'])).toBe(false)
    expect(generatedSince(status, ['kind2', 'kind3'])).toBe(true)
    expect(generatedSince(status, ['kind2', 'kind3'], {kind2: 2})).toBe(true)
    expect(generatedSince(status, ['kind2', 'kind3'], {kind2: 2, kind3: 1})).toBe(false)
    expect(generatedSince(status, ['kind2', 'kind4'])).toBe(false)
  })
})

describe("the oracle's call and answer", () => {
  it("runs with --no-analyze on the cluster's snapshot and our objects, with istiod's PILOT_* over the caller's env", () => {
    const {args, env} = oracleInvocation({cluster: 'kind3', env: {PILOT_SKIP_VALIDATE_TRUST_DOMAIN: 'true', PILOT_X: 'istiod'}}, 'default/reviews-v3-y', '/w/kind3-snapshot.json', '/w/kind3-config.json', {PATH: '/bin', PILOT_X: 'ours'})
    expect(args).toEqual(['--cluster', 'kind3', '--proxy', 'default/reviews-v3-y', '--snapshot', '/w/kind3-snapshot.json', '--config', '/w/kind3-config.json', '--no-analyze'])
    expect(env).toEqual({PATH: '/bin', PILOT_SKIP_VALIDATE_TRUST_DOMAIN: 'true', PILOT_X: 'istiod'})
  })

  it('exit 2 or no output is a failure naming the proxy and the end of stderr; exit 1 keeps what Istio ignored', () => {
    const stderr = 'line 1\nline 2\nline 3\nline 4: the reason\n'
    expect(() => parseOracleOutput('kind2', 'default/p', 2, '{"proxy":"x"}', stderr)).toThrow(SmhError)
    expect(() => parseOracleOutput('kind2', 'default/p', 2, '', stderr)).toThrow("Istio's generator failed for kind2 default/p (exit 2): line 2 line 3 line 4: the reason")
    expect(() => parseOracleOutput('kind2', 'default/p', 0, '  \n', '')).toThrow('(exit 0)')
    const r = parseOracleOutput('kind2', 'default/p', 1, JSON.stringify({proxy: 'sidecar~10.0.0.1', clusters: [{name: 'c'}], errors: ['EnvoyFilter default/x: ignored']}), '')
    expect(r).toEqual({proxy: 'sidecar~10.0.0.1', clusters: [{name: 'c'}], listeners: [], routes: [], endpoints: [], errors: ['EnvoyFilter default/x: ignored']})
  })
})

describe("the workload certificates Envoy's secrets point at (versioned folders)", () => {
  const certDir = join(tmp, 'certs')
  const write = (chain: string, key = 'KEY', root = 'ROOT') => {
    mkdirSync(certDir, {recursive: true})
    writeFileSync(join(certDir, CERT_FILES.chain), chain)
    writeFileSync(join(certDir, CERT_FILES.key), key)
    writeFileSync(join(certDir, CERT_FILES.root), root)
  }

  it('the folder is named by a hash of chain, key and root (in that order): any change names a new folder', () => {
    const name = certVersionName([Buffer.from('CHAIN'), Buffer.from('KEY'), Buffer.from('ROOT')])
    expect(name).toBe(`v-${createHash('sha256').update('CHAINKEYROOT').digest('hex').slice(0, 12)}`)
    expect(name).toMatch(/^v-[0-9a-f]{12}$/)
    expect(certVersionName([Buffer.from('CHAIN'), Buffer.from('KEY'), Buffer.from('ROOT2')])).not.toBe(name)
  })

  it('a copy is made once per content, with the key 0600; a renewal makes a new folder', () => {
    write('CHAIN-1')
    const first = versionedCerts(certDir)
    expect(first).toBe(join(certDir, certVersionName([Buffer.from('CHAIN-1'), Buffer.from('KEY'), Buffer.from('ROOT')])))
    expect(readFileSync(join(first, CERT_FILES.chain), 'utf8')).toBe('CHAIN-1')
    expect(statSync(join(first, CERT_FILES.key)).mode & 0o777).toBe(0o600)
    expect(statSync(join(first, CERT_FILES.root)).mode & 0o777).toBe(0o644)
    const mtime = statSync(join(first, CERT_FILES.chain)).mtimeMs
    expect(versionedCerts(certDir)).toBe(first)
    expect(statSync(join(first, CERT_FILES.chain)).mtimeMs).toBe(mtime)
    write('CHAIN-2')
    const second = versionedCerts(certDir)
    expect(second).not.toBe(first)
    expect(existsSync(`${second}.tmp`)).toBe(false)
  })

  it('pruning keeps the current copy and the newest other one', () => {
    expect(certCopiesToPrune([{path: '/c/v-a', at: 1}, {path: '/c/v-b', at: 3}, {path: '/c/v-c', at: 2}, {path: '/c/v-d', at: 4}], '/c/v-d')).toEqual(['/c/v-c', '/c/v-a'])
    expect(certCopiesToPrune([{path: '/c/v-a', at: 1}], '/c/v-a')).toEqual([])
    expect(certCopiesToPrune([{path: '/c/v-a', at: 1}, {path: '/c/v-b', at: 2}], '/c/v-b')).toEqual([])
    // On disk: three renewals, the current one kept with the one before.
    write('CHAIN-3')
    const third = versionedCerts(certDir)
    const names = readdirSync(certDir).filter((n) => n.startsWith('v-'))
    expect(names).toHaveLength(3)
    names.forEach((n, i) => utimesSync(join(certDir, n), new Date(), new Date(Date.now() - 1000 * (join(certDir, n) === third ? 0 : i + 1))))
    const newestOther = names.filter((n) => join(certDir, n) !== third).sort((a, b) => statSync(join(certDir, b)).mtimeMs - statSync(join(certDir, a)).mtimeMs)[0]
    pruneVersionedCerts(certDir, third)
    expect(readdirSync(certDir).filter((n) => n.startsWith('v-')).sort()).toEqual([newestOther, third.split('/').at(-1)!].sort())
  })
})

describe('fs.inotify.max_user_instances', () => {
  it('raises to the value asked only when below it', () => {
    expect(inotifyRaise(128, 8192)).toBe(8192)
    expect(inotifyRaise(8192, 8192)).toBeUndefined()
    expect(inotifyRaise(65536, 8192)).toBeUndefined()
  })

  it('raise returns the previous value, restore writes it back; nothing changed, nothing restored', () => {
    const file = join(tmp, 'max_user_instances')
    writeFileSync(file, '128\n')
    const before = raiseInotifyInstances(8192, file)
    expect(before).toBe(128)
    expect(readFileSync(file, 'utf8')).toBe('8192')
    restoreInotifyInstances(before, file)
    expect(readFileSync(file, 'utf8')).toBe('128')
    writeFileSync(file, '10000\n')
    const unchanged = raiseInotifyInstances(8192, file)
    expect(unchanged).toBeUndefined()
    restoreInotifyInstances(unchanged, file)
    expect(readFileSync(file, 'utf8')).toBe('10000\n')
  })
})
