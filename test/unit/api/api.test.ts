import {describe, expect, it} from 'vitest'

import {crdManifests} from '../../../src/api/crds.js'
import {checkResources, parseDocuments} from '../../../src/api/parse.js'

describe('the SMH API schema', () => {
  it('gives one CRD per kind with a structural schema and a status subresource, without our validator-only keys', () => {
    const crds = crdManifests()
    expect(crds.map((c) => c.metadata.name)).toEqual([
      'trafficpolicies.networking.smh.solo.io',
      'failoverservices.networking.smh.solo.io',
      'virtualmeshes.networking.smh.solo.io',
      'accesspolicies.networking.smh.solo.io',
      'kubernetesclusters.multicluster.solo.io',
    ])
    for (const crd of crds) {
      expect(crd.spec.versions[0].subresources).toEqual({status: {}})
      expect(JSON.stringify(crd)).not.toContain('x-smh-')
    }
    const tp = crds[0].spec.versions[0].schema.openAPIV3Schema
    expect(tp.properties!.spec.properties!.outlierDetection.properties!.maxEjectionPercent).toMatchObject({type: 'integer', maximum: 100})
  })

  it('parses multi-document YAML and Lists, and collects every problem with file, line, resource and field', () => {
    const text = [
      'apiVersion: v1\nkind: List\nitems:',
      '- apiVersion: networking.smh.solo.io/v1alpha2\n  kind: VirtualMesh\n  metadata: {name: vm}\n  spec: {meshes: [{name: m}]}',
      '---',
      'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: tp}\nspec:\n  retries: {attempts: many}\n  requestTimeout: 5 s',
    ].join('\n')
    const parsed = parseDocuments(text, 'in.yaml')
    expect(parsed.problems).toEqual([])
    const checked = checkResources(parsed.objects)
    expect(checked.resources.map((r) => r.resource.metadata.name)).toEqual(['vm'])
    expect(checked.problems).toEqual([
      {file: 'in.yaml', line: 13, resource: 'TrafficPolicy/service-mesh-hub/tp', path: 'spec.retries.attempts', message: 'expected an integer, got string "many"'},
      {file: 'in.yaml', line: 14, resource: 'TrafficPolicy/service-mesh-hub/tp', path: 'spec.requestTimeout', message: 'expected a duration such as 10s, 500ms or 2m, got string "5 s"'},
    ])
  })
})
