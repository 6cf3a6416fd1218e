import {fileURLToPath} from 'node:url'

import type {KubernetesObject} from '@kubernetes/client-node'
import {beforeAll, describe, expect, inject, it} from 'vitest'

import {crdManifests} from '../../src/api/crds.js'
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
