import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import type {KubernetesObject} from '@kubernetes/client-node'
import {beforeAll, describe, expect, inject, it} from 'vitest'

import {crdManifests} from '../../src/api/crds.js'
import {binaryPath} from '../../src/controlplane/binaries.js'
import {readInputs} from '../../src/api/load.js'
import {checkResources, formatProblem} from '../../src/api/parse.js'
import {ClusterClient} from '../../src/kube/client.js'
import {describeKubeError} from '../../src/kube/errors.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'

// One schema (src/api/schema.ts) is both our validator and the CRDs `install` applies: the real API server must
// take the CRDs, store the seed's YAML verbatim under Strict validation, and reject what our validator rejects.
const seedFiles = ['input.yaml', 'virtualmesh.yaml'].map((f) => fileURLToPath(new URL(`../golden/seed-failover/${f}`, import.meta.url)))
let seedResources: KubernetesObject[] = []
let mgmt: ClusterClient

describe('the SMH CRDs on the management cluster', () => {
  beforeAll(async () => {
    // The seed's YAML as our loader reads it, namespaces left as the user wrote them.
    const read = await readInputs(seedFiles)
    expect(read.problems).toEqual([])
    seedResources = read.objects.map((o) => o.object as unknown as KubernetesObject)
    mgmt = ClusterClient.forContext(loadKubeconfig({kubeconfig: inject('kubeconfig')}), 'kind1')
    for (const crd of crdManifests()) await mgmt.apply(crd as unknown as KubernetesObject)
    for (const ns of new Set(seedResources.map((r) => r.metadata?.namespace ?? 'service-mesh-hub'))) {
      await mgmt.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns}})
    }
  })

  it('are accepted and served with a status subresource', async () => {
    const names = crdManifests().map((c) => c.metadata.name)
    expect(names).toEqual(expect.arrayContaining(['trafficpolicies.networking.smh.solo.io', 'failoverservices.networking.smh.solo.io', 'virtualmeshes.networking.smh.solo.io', 'accesspolicies.networking.smh.solo.io', 'kubernetesclusters.multicluster.solo.io']))
    const stored = await mgmt.objects.list<KubernetesObject & {spec: {versions: {subresources?: {status?: unknown}}[]}}>('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
    for (const name of names) {
      const crd = stored.items.find((c) => c.metadata?.name === name)
      expect(crd, name).toBeDefined()
      expect(crd!.spec.versions[0].subresources?.status).toEqual({})
    }
  })

  it("store the seed blog's YAML verbatim under Strict validation", async () => {
    for (const resource of seedResources) {
      const stored = await mgmt.apply(resource)
      expect((stored as unknown as {spec: unknown}).spec).toEqual((resource as unknown as {spec: unknown}).spec)
    }
  })

  it('reject what our own validator rejects, at the same field', async () => {
    const bad = structuredClone(seedResources[0]) as KubernetesObject & {spec: Record<string, unknown>}
    bad.metadata = {...bad.metadata, name: 'it-bad-outlier'}
    ;(bad.spec.outlierDetection as Record<string, unknown>).consecutiveErrors = 'one'
    const ours = checkResources([{object: bad as unknown as Record<string, unknown>, origin: {file: 'bad.yaml', line: 1}, lineOf: () => undefined}]).problems
    expect(ours.map(formatProblem).join('\n')).toContain('spec.outlierDetection.consecutiveErrors')
    const error = await mgmt.apply(bad).then(() => undefined, (e: unknown) => e)
    expect(describeKubeError(error, 'kind1')).toContain('.spec.outlierDetection.consecutiveErrors')
  })
})

// What plain `kubectl apply` does with Service Mesh Hub's proto spelling (its OSM guide's snake_case YAML) against
// our CRDs, which know only the camelCase names: the README's "Existing users' YAML" says what these find.
describe("the SMH CRDs and Service Mesh Hub's proto (snake_case) spelling, through plain kubectl apply", () => {
  const namespace = 'it-proto-spelling'
  const osmGuide = fileURLToPath(new URL('../golden/proto-spellings/input.yaml', import.meta.url))
  const kubectl = (args: string[], input?: string) => {
    const run = spawnSync(binaryPath('kubectl'), ['--kubeconfig', inject('kubeconfig'), '--context', 'kind1', ...args], {input, encoding: 'utf8'})
    return {code: run.status, stdout: run.stdout, stderr: run.stderr}
  }
  let manifests = ''
  beforeAll(async () => {
    const crds = crdManifests()
    const setup = kubectl(['apply', '-f', '-'], [...crds, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}}].map((o) => JSON.stringify(o)).join('\n---\n'))
    expect(setup.code, setup.stderr).toBe(0)
    const established = kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds.map((c) => `crd/${c.metadata.name}`)])
    expect(established.code, established.stderr).toBe(0)
    const read = await readInputs([osmGuide])
    manifests = read.objects.map((o) => JSON.stringify({...o.object, metadata: {...(o.object.metadata as object), namespace}})).join('\n---\n')
  })
  const storedSpec = (kind: string, name: string) => JSON.parse(kubectl(['get', kind, name, '-n', namespace, '-o', 'json']).stdout).spec

  it('kubectl apply (its default --validate=strict: server-side fieldValidation Strict) rejects the snake_case fields and stores nothing', () => {
    const result = kubectl(['apply', '-f', '-'], manifests)
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('unknown field "spec.destination_selector"')
    expect(result.stderr).toContain('unknown field "spec.traffic_shift"')
    expect(kubectl(['get', 'trafficpolicy', 'bookstore', '-n', namespace]).stderr).toContain('NotFound')
  })

  it('kubectl apply --validate=warn stores them with the snake_case fields pruned (an empty spec), saying so only in warnings', () => {
    const result = kubectl(['apply', '--validate=warn', '-f', '-'], manifests)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(/Warning: unknown field "spec\.destination_selector"/)
    expect(storedSpec('trafficpolicy', 'bookstore')).toEqual({})
    expect(storedSpec('accesspolicy', 'bookthief')).toEqual({})
  })

  it('kubectl apply --validate=false prunes them without a word', () => {
    kubectl(['delete', 'trafficpolicy,accesspolicy', '--all', '-n', namespace])
    const result = kubectl(['apply', '--validate=false', '-f', '-'], manifests)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
    expect(storedSpec('trafficpolicy', 'bookstore')).toEqual({})
  })
})
