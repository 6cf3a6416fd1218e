import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {KubernetesObject} from '@kubernetes/client-node'
import {describe, expect, inject, it} from 'vitest'
import {parseAllDocuments} from 'yaml'

import {ClusterClient} from '../../src/kube/client.js'
import {describeKubeError} from '../../src/kube/errors.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'

// Every Istio object in every golden case must be accepted by a real kube-apiserver with Istio's CRDs, under
// fieldValidation=Strict (unknown fields, wrong types, enum and CEL violations are all rejected). Server-side
// dry-run: the same validation as a real write, and cases never collide with each other.
const goldenRoot = fileURLToPath(new URL('../golden', import.meta.url))
const cases = existsSync(goldenRoot) ? readdirSync(goldenRoot).filter((c) => existsSync(join(goldenRoot, c, 'expected'))).sort() : []

function expectedObjects(caseName: string): {cluster: string; object: KubernetesObject}[] {
  const dir = join(goldenRoot, caseName, 'expected')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'statuses.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8'))
      .map((d) => d.toJS() as KubernetesObject | null)
      .filter((o): o is KubernetesObject => Boolean(o?.kind))
      .map((object) => ({cluster: f.replace(/\.yaml$/, ''), object})))
}

describe('golden translations are accepted by real API servers (Strict)', () => {
  it('has golden cases to check', () => {
    expect(cases.length).toBeGreaterThan(0)
  })

  it.each(cases)('%s', async (caseName) => {
    const kc = loadKubeconfig({kubeconfig: inject('kubeconfig')})
    const objects = expectedObjects(caseName)
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
