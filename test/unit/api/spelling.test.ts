import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {loadResources} from '../../../src/api/load.js'
import {checkResources, formatNote, formatProblem, parseDocuments} from '../../../src/api/parse.js'
import {GOLDEN_DIR} from '../../support/golden.js'

const check = (text: string) => checkResources(parseDocuments(text, 'in.yaml').objects)
const TP = (spec: string, name = 'tp') => `apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: ${name}, namespace: default}\nspec:\n${spec}\n`
const OSM_GUIDE = join(GOLDEN_DIR, 'proto-spellings', 'input.yaml')

describe("Service Mesh Hub's proto field names (snake_case), as its OSM guide writes them", () => {
  it('reads the OSM guide as its camelCase twin, with one note per renamed field (file:line, resource, field → name)', async () => {
    const loaded = await loadResources([OSM_GUIDE])
    expect(loaded.problems).toEqual([])
    const camel = readFileSync(OSM_GUIDE, 'utf8').replace(/\b([a-z]+(?:_[a-z]+)+):/g, (_, key: string) => `${key.replace(/_([a-z])/g, (__, c: string) => c.toUpperCase())}:`)
    const twin = check(camel)
    expect(twin.notes).toEqual([])
    expect(loaded.resources.map((r) => r.resource)).toEqual(twin.resources.map((r) => r.resource))
    expect(loaded.notes.map(formatNote).map((n) => n.replace(OSM_GUIDE, 'input.yaml'))).toEqual([
      'input.yaml:8: AccessPolicy/default/bookthief: spec.destination_selector → destinationSelector',
      'input.yaml:9: AccessPolicy/default/bookthief: spec.destinationSelector[0].kube_service_refs → kubeServiceRefs',
      'input.yaml:11: AccessPolicy/default/bookthief: spec.destinationSelector[0].kubeServiceRefs.services[0].cluster_name → clusterName',
      'input.yaml:14: AccessPolicy/default/bookthief: spec.destinationSelector[0].kubeServiceRefs.services[1].cluster_name → clusterName',
      'input.yaml:17: AccessPolicy/default/bookthief: spec.source_selector → sourceSelector',
      'input.yaml:18: AccessPolicy/default/bookthief: spec.sourceSelector[0].kube_service_account_refs → kubeServiceAccountRefs',
      'input.yaml:19: AccessPolicy/default/bookthief: spec.sourceSelector[0].kubeServiceAccountRefs.service_accounts → serviceAccounts',
      'input.yaml:20: AccessPolicy/default/bookthief: spec.sourceSelector[0].kubeServiceAccountRefs.serviceAccounts[0].cluster_name → clusterName',
      'input.yaml:30: TrafficPolicy/default/bookstore: spec.traffic_shift → trafficShift',
      'input.yaml:32: TrafficPolicy/default/bookstore: spec.trafficShift.destinations[0].kube_service → kubeService',
      'input.yaml:33: TrafficPolicy/default/bookstore: spec.trafficShift.destinations[0].kubeService.cluster_name → clusterName',
      'input.yaml:37: TrafficPolicy/default/bookstore: spec.trafficShift.destinations[1].kube_service → kubeService',
      'input.yaml:38: TrafficPolicy/default/bookstore: spec.trafficShift.destinations[1].kubeService.cluster_name → clusterName',
      'input.yaml:42: TrafficPolicy/default/bookstore: spec.destination_selector → destinationSelector',
      'input.yaml:43: TrafficPolicy/default/bookstore: spec.destinationSelector[0].kube_service_refs → kubeServiceRefs',
      'input.yaml:45: TrafficPolicy/default/bookstore: spec.destinationSelector[0].kubeServiceRefs.services[0].cluster_name → clusterName',
    ])
  })

  it('maps any snake_case spelling of a schema field, wherever the schema has it, and nothing else', () => {
    const {resources, problems, notes} = check(
      TP(
        '  destinationSelector:\n  - kube_service_matcher: {labels: {app_name: reviews, team_id: a_b}}\n' +
          '  http_request_matchers:\n  - {prefix: /x, query_parameters: [{name: q_param, value: v_1}]}\n' +
          '  outlier_detection: {consecutive_errors: 3, base_ejection_time: 1m, max_ejection_percent: 50}\n' +
          '  fault_injection: {abort: {http_status: 503}, percentage: 1}',
      ),
    )
    expect(problems).toEqual([])
    expect(notes).toHaveLength(9)
    expect(resources[0].resource.spec).toEqual({
      destinationSelector: [{kubeServiceMatcher: {labels: {app_name: 'reviews', team_id: 'a_b'}}}], // label keys and values are data
      httpRequestMatchers: [{prefix: '/x', queryParameters: [{name: 'q_param', value: 'v_1'}]}],
      outlierDetection: {consecutiveErrors: 3, baseEjectionTime: '1m', maxEjectionPercent: 50},
      faultInjection: {abort: {httpStatus: 503}, percentage: 1},
    })
  })

  it('leaves metadata as written, and an unknown snake_case field is still an unknown field at its line', () => {
    const {resources, problems} = check(TP('  request_timeout: 1s\n  retry_budget: 3').replace('namespace: default}', 'namespace: default, labels: {team_name: a}}'))
    expect(resources).toEqual([])
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^in\.yaml:6: TrafficPolicy\/default\/tp: spec\.retry_budget: unknown field \(known fields: /)])
    const ok = check(TP('  request_timeout: 1s').replace('namespace: default}', 'namespace: default, labels: {team_name: a}}'))
    expect(ok.resources[0].resource.metadata.labels).toEqual({team_name: 'a'})
  })

  it('gives schema problems the line of the field as written', () => {
    const {problems} = check(TP('  outlier_detection:\n    consecutive_errors: many'))
    expect(problems.map(formatProblem)).toEqual(['in.yaml:6: TrafficPolicy/default/tp: spec.outlierDetection.consecutiveErrors: expected an integer, got string "many"'])
  })

  it('rejects one field in both spellings in one object: where, which field, keep one', () => {
    const {resources, problems} = check(TP('  requestTimeout: 1s\n  trafficShift: {destinations: [{kubeService: {name: a, namespace: b, clusterName: c}, kube_service: {name: a, namespace: b, cluster_name: c}}]}'))
    expect(resources).toEqual([])
    expect(problems.map(formatProblem)).toEqual([
      'in.yaml:6: TrafficPolicy/default/tp: spec.trafficShift.destinations[0].kubeService: given twice, as kubeService and as kube_service (its proto spelling); keep one',
    ])
  })
})
