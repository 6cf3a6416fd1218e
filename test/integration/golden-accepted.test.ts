import type {KubernetesObject} from '@kubernetes/client-node'
import {describe, expect, inject, it} from 'vitest'

import {ClusterClient} from '../../src/kube/client.js'
import {describeKubeError} from '../../src/kube/errors.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {goldenCases, runCase} from '../support/golden.js'

// Every Istio object of every golden case must be accepted by a real kube-apiserver with Istio's CRDs, under
// fieldValidation=Strict (unknown fields, wrong types, enum and CEL violations are all rejected). Server-side
// dry-run: the same validation as a real write, and cases never collide with each other.
const cases = goldenCases()

describe('golden translations are accepted by real API servers (Strict)', () => {
  it('has golden cases to check', () => {
    expect(cases.length).toBeGreaterThan(0)
  })

  it.each(cases.map((c) => c.name))('%s', async (caseName) => {
    const kc = loadKubeconfig({kubeconfig: inject('kubeconfig')})
    const outcome = await runCase(cases.find((c) => c.name === caseName)!)
    const objects = Object.entries(outcome.result?.clusters ?? {}).flatMap(([cluster, list]) => list.map((object) => ({cluster, object: object as KubernetesObject})))
    const problems: string[] = []
    const namespacesMade = new Set<string>()
    for (const {cluster, object} of objects) {
      // Cases may name clusters the test bed does not have; the schema is the same everywhere.
      const target = inject('clusters').includes(cluster) ? cluster : 'kind2'
      const client = ClusterClient.forContext(kc, target)
      const namespace = object.metadata?.namespace
      if (namespace && !namespacesMade.has(`${target}/${namespace}`)) {
        await client.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}})
        namespacesMade.add(`${target}/${namespace}`)
      }
      try {
        await client.apply(object, {dryRun: true})
      } catch (error) {
        problems.push(`${cluster}: ${object.kind}/${namespace}/${object.metadata?.name}: ${describeKubeError(error, target)}`)
      }
    }
    expect(problems).toEqual([])
  })
})
