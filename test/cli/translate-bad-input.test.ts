/**
 * Bad input to `kubectl smh translate`, as a user meets it: exit 2, every problem on stderr (what and where),
 * nothing on stdout, nothing written. Runs the built CLI (npm run build first).
 */
import {copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli} from '../support/cli.js'

const FIXTURES = resolve(import.meta.dirname, '../fixtures/snapshots')
const SNAPSHOTS = [`--snapshot`, `kind2=${join(FIXTURES, 'kind2.yaml')}`, '--snapshot', `kind3=${join(FIXTURES, 'kind3.yaml')}`]

const TP = (name: string, spec: string, namespace = 'service-mesh-hub') =>
  `apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n${spec}\n`
const REVIEWS2 = `  destinationSelector:\n  - kubeServiceRefs:\n      services: [{name: reviews, namespace: default, clusterName: kind2}]\n`
const FS = (spec: string) => `apiVersion: networking.smh.solo.io/v1alpha2\nkind: FailoverService\nmetadata: {name: fs, namespace: service-mesh-hub}\nspec:\n${spec}\n`
const FS_SPEC = `  hostname: reviews-failover.default.global\n  port: {number: 9080, protocol: http}\n  meshes: [{name: istiod-istio-system-kind2}]\n  backingServices:\n  - kubeService: {name: reviews, namespace: default, clusterName: kind2}\n  - kubeService: {name: reviews, namespace: default, clusterName: kind3}\n`
const VM = (name: string, meshes: string[]) =>
  `apiVersion: networking.smh.solo.io/v1alpha2\nkind: VirtualMesh\nmetadata: {name: ${name}, namespace: service-mesh-hub}\nspec:\n  meshes: [${meshes.map((m) => `{name: ${m}}`).join(', ')}]\n`
const OUTLIER_BOTH = TP('outlier', `  destinationSelector:\n  - kubeServiceMatcher: {labels: {app: reviews}}\n  outlierDetection: {}`)

interface BadCase {
  name: string
  /** file name → content */
  files: Record<string, string>
  args?: (dir: string) => string[]
  input?: string
  /** Each must appear on stderr. `{dir}` is replaced by the case directory. */
  expect: (string | RegExp)[]
}

const cases: BadCase[] = [
  {name: 'YAML syntax error names file and line', files: {'bad.yaml': 'apiVersion: v1\nkind: TrafficPolicy\nmetadata:\n  name: [oops\nspec: {}\n'}, expect: [/bad\.yaml:\d+: YAML syntax error/]},
  {name: 'JSON syntax error names file and line', files: {'bad.json': '{"apiVersion": "networking.smh.solo.io/v1alpha2",\n "kind": "TrafficPolicy",\n "metadata": {"name": "x"\n'}, expect: [/bad\.json:\d+: YAML syntax error/]},
  {name: 'a kind that is not SMH', files: {'a.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n'}, expect: ['a.yaml:2: Deployment/service-mesh-hub/web: kind: kind Deployment is not an SMH resource', '--snapshot']},
  {name: 'wrong apiVersion', files: {'a.yaml': TP('x', REVIEWS2).replace('v1alpha2', 'v1alpha1')}, expect: ['TrafficPolicy/service-mesh-hub/x: apiVersion: expected networking.smh.solo.io/v1alpha2, got "networking.smh.solo.io/v1alpha1"']},
  {name: 'missing metadata.name', files: {'a.yaml': 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {namespace: default}\nspec: {}\n'}, expect: ['TrafficPolicy/default/?: metadata.name: is required']},
  {name: 'missing spec', files: {'a.yaml': 'apiVersion: networking.smh.solo.io/v1alpha2\nkind: VirtualMesh\nmetadata: {name: vm}\n'}, expect: ['VirtualMesh/service-mesh-hub/vm: spec: is required']},
  {name: 'a weight that is not a number', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: default, clusterName: kind2}\n      weight: half`)}, expect: [/a\.yaml:\d+: TrafficPolicy\/service-mesh-hub\/x: spec\.trafficShift\.destinations\[0\]\.weight: expected an integer, got string "half"/]},
  {name: 'a misspelt field', files: {'a.yaml': TP('x', `${REVIEWS2}  outlierDetectoin: {}`)}, expect: ['spec.outlierDetectoin: unknown field (known fields:']},
  {name: 'a duration that is not one', files: {'a.yaml': TP('x', `${REVIEWS2}  outlierDetection:\n    interval: 10 seconds`)}, expect: ['spec.outlierDetection.interval: expected a duration such as 10s, 500ms or 2m, got string "10 seconds"']},
  {name: 'maxEjectionPercent above 100', files: {'a.yaml': TP('x', `${REVIEWS2}  outlierDetection:\n    maxEjectionPercent: 150`)}, expect: ['spec.outlierDetection.maxEjectionPercent: must be at most 100, got 150']},
  {name: 'FailoverService hostname not under .global', files: {'a.yaml': FS(FS_SPEC.replace('reviews-failover.default.global', 'reviews.example.com'))}, expect: ['FailoverService/service-mesh-hub/fs: spec.hostname: expected a DNS name ending in .global']},
  {name: 'FailoverService without backing services', files: {'a.yaml': FS(FS_SPEC.split('  backingServices:')[0])}, expect: ['spec.backingServices: is required']},
  {name: 'two destinations kinds in one entry (oneof)', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: default, clusterName: kind2}\n      failoverServiceRef: {name: fs}`)}, expect: ['spec.trafficShift.destinations[0]: set only one of kubeService, failoverServiceRef, failoverService']},
  {name: 'an HTTP method that does not exist', files: {'a.yaml': TP('x', `${REVIEWS2}  httpRequestMatchers:\n  - method: {method: FETCH}\n  requestTimeout: 1s`)}, expect: ['spec.httpRequestMatchers[0].method.method: expected one of GET, POST']},
  {name: 'a field in both spellings (camelCase and proto snake_case)', files: {'a.yaml': TP('x', `${REVIEWS2}  requestTimeout: 1s\n  request_timeout: 2s`)}, expect: [/a\.yaml:\d+: TrafficPolicy\/service-mesh-hub\/x: spec\.requestTimeout: given twice, as requestTimeout and as request_timeout \(its proto spelling\); keep one/]},
  {name: 'the same resource twice', files: {'a.yaml': TP('x', `${REVIEWS2}  requestTimeout: 1s`), 'b.yaml': TP('x', `${REVIEWS2}  requestTimeout: 2s`)}, expect: [/b\.yaml:1: TrafficPolicy\/service-mesh-hub\/x: defined twice \(first at .*a\.yaml:1\)/]},
  {name: 'a service that does not exist', files: {'a.yaml': TP('x', `  destinationSelector:\n  - kubeServiceRefs:\n      services: [{name: reviewz, namespace: default, clusterName: kind2}]\n  requestTimeout: 1s`)}, expect: ['TrafficPolicy/service-mesh-hub/x: spec.destinationSelector[0].kubeServiceRefs.services[0]: service reviewz.default in cluster kind2 not found']},
  {name: 'a service in the wrong namespace', files: {'a.yaml': TP('x', `  destinationSelector:\n  - kubeServiceRefs:\n      services: [{name: reviews, namespace: bookinfo, clusterName: kind2}]\n  requestTimeout: 1s`)}, expect: ['service reviews.bookinfo in cluster kind2 not found among the services of the mesh (reviews exists in namespace default)']},
  {name: 'a cluster without a snapshot', files: {'a.yaml': TP('x', `  destinationSelector:\n  - kubeServiceRefs:\n      services: [{name: reviews, namespace: default, clusterName: kind9}]\n  requestTimeout: 1s`)}, expect: ['service reviews.default in cluster kind9 not found: no cluster kind9 (clusters: kind2, kind3)']},
  {name: 'a subset no workload has', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: default, clusterName: kind2, subset: {version: v9}}`)}, expect: ['spec.trafficShift.destinations[0].kubeService.subset: service reviews.default in cluster kind2 has no workload with version=v9 (values: v1, v2)']},
  {name: 'a port the service lacks', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: ratings, namespace: default, clusterName: kind2, port: 9999}`)}, expect: ['spec.trafficShift.destinations[0].kubeService.port: service ratings.default in cluster kind2 has no port 9999 (ports: 9080)']},
  {name: 'a VirtualMesh naming a mesh that does not exist', files: {'a.yaml': VM('vm', ['istiod-istio-system-kind2', 'istiod-istio-system-kind9'])}, expect: ['VirtualMesh/service-mesh-hub/vm: spec.meshes[1]: mesh istiod-istio-system-kind9 not found (discovered meshes: istiod-istio-system-kind2, istiod-istio-system-kind3)']},
  {name: 'a mesh in two VirtualMeshes', files: {'a.yaml': `${VM('a', ['istiod-istio-system-kind2', 'istiod-istio-system-kind3'])}---\n${VM('b', ['istiod-istio-system-kind3'])}`}, expect: ['VirtualMesh/service-mesh-hub/b: spec.meshes[0]: includes mesh istiod-istio-system-kind3 that is already grouped in VirtualMesh/service-mesh-hub/a']},
  {name: 'a FailoverService whose backing service has no outlier detection', files: {'a.yaml': `${FS(FS_SPEC)}---\n${VM('vm', ['istiod-istio-system-kind2', 'istiod-istio-system-kind3'])}`}, expect: ['FailoverService/service-mesh-hub/fs: spec.backingServices[0]: service reviews.default in cluster kind2 has no TrafficPolicy with outlierDetection', 'spec.backingServices[1]: service reviews.default in cluster kind3 has no TrafficPolicy with outlierDetection']},
  {name: 'a FailoverService across meshes with no VirtualMesh', files: {'a.yaml': `${FS(FS_SPEC)}---\n${OUTLIER_BOTH}`}, expect: ['FailoverService/service-mesh-hub/fs: meshes istiod-istio-system-kind2, istiod-istio-system-kind3 not grouped in a VirtualMesh']},
  {name: 'a shift to a FailoverService that does not exist', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - failoverServiceRef: {name: nope}`)}, expect: ['TrafficPolicy/service-mesh-hub/x: spec.trafficShift.destinations[0]: FailoverService/service-mesh-hub/nope not found']},
  {name: 'a shift to an INVALID FailoverService', files: {'a.yaml': `${FS(FS_SPEC)}---\n${TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - failoverServiceRef: {name: fs}`)}`}, expect: ['TrafficPolicy/service-mesh-hub/x: shifts traffic to FailoverService/service-mesh-hub/fs, which is INVALID']},
  {name: 'a shift to another cluster with no VirtualMesh', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: default, clusterName: kind3}`)}, expect: ['service reviews.default in cluster kind3 is not reachable from cluster kind2: meshes istiod-istio-system-kind2 and istiod-istio-system-kind3 must be in one VirtualMesh']},
  {name: 'several destinations without weights', files: {'a.yaml': TP('x', `${REVIEWS2}  trafficShift:\n    destinations:\n    - kubeService: {name: reviews, namespace: default, clusterName: kind2, subset: {version: v1}}\n    - kubeService: {name: reviews, namespace: default, clusterName: kind2, subset: {version: v2}}`)}, expect: ['spec.trafficShift.destinations: set a weight on each destination']},
  {name: 'two policies setting the same route field differently', files: {'a.yaml': `${TP('a', `${REVIEWS2}  retries: {attempts: 3}`)}---\n${TP('b', `${REVIEWS2}  retries: {attempts: 5}`)}`}, expect: ['TrafficPolicy/service-mesh-hub/b: reviews-default-kind2: conflicts with TrafficPolicy/service-mesh-hub/a: both set retries on the route for every request of VirtualService default/reviews in cluster kind2 to different values']},
  {name: 'an input file that does not exist', files: {}, args: (dir) => ['-f', join(dir, 'nope.yaml'), ...SNAPSHOTS], expect: [/nope\.yaml: no such file or directory/]},
  {name: 'a --snapshot without CLUSTER=', files: {'a.yaml': TP('x', `${REVIEWS2}  requestTimeout: 1s`)}, args: (dir) => ['-f', join(dir, 'a.yaml'), '--snapshot', join(FIXTURES, 'kind2.yaml')], expect: ['expected CLUSTER=FILE, e.g. --snapshot kind2=kind2.yaml']},
  {name: 'a snapshot with a syntax error', files: {'a.yaml': TP('x', `${REVIEWS2}  requestTimeout: 1s`), 'snap.yaml': 'apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: x\n'}, args: (dir) => ['-f', join(dir, 'a.yaml'), '--snapshot', `kind2=${join(dir, 'snap.yaml')}`], expect: [/snap\.yaml:\d+: YAML syntax error/]},
  {name: 'bad YAML on stdin', files: {}, input: 'kind: [\n', args: () => ['-f', '-', ...SNAPSHOTS], expect: [/<stdin>:\d+: YAML syntax error/]},
  {
    name: 'every problem of every file is listed together',
    files: {'a.yaml': TP('x', `${REVIEWS2}  requestTimeout: soon`), 'b.yaml': FS(FS_SPEC.replace('9080, protocol', '99999, protocol'))},
    expect: ['invalid input: 2 problems', 'spec.requestTimeout: expected a duration', 'spec.port.number: must be at most 65535, got 99999'],
  },
]

describe.concurrent('kubectl smh translate rejects bad input: exit 2, the problem on stderr, nothing on stdout', () => {
  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25))
  for (const c of cases) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'smh-bad-'))
      for (const [name, content] of Object.entries(c.files)) writeFileSync(join(dir, name), content)
      const outDir = join(dir, 'out')
      const args = c.args?.(dir) ?? [...Object.keys(c.files).sort().flatMap((f) => ['-f', join(dir, f)]), ...SNAPSHOTS, '--output-dir', outDir]
      const result = await runCli(['translate', ...args], {input: c.input})
      expect(result.stdout).toBe('')
      for (const wanted of c.expect) {
        if (typeof wanted === 'string') expect(result.stderr).toContain(wanted)
        else expect(result.stderr).toMatch(wanted)
      }
      expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
      expect(result.code).toBe(2)
      expect(existsSync(outDir) ? readdirSync(outDir) : []).toEqual([])
    })
  }
})

describe('kubectl smh translate on good input', () => {
  const golden = resolve(import.meta.dirname, '../golden/seed-failover')
  // A directory holding only the seed's SMH resources (the golden folder also has case.yaml).
  const seed = mkdtempSync(join(tmpdir(), 'smh-seed-'))
  for (const file of ['input.yaml', 'virtualmesh.yaml']) copyFileSync(join(golden, file), join(seed, file))
  it('-o json prints one List with every cluster\'s objects; statuses on stderr', async () => {
    const result = await runCli(['translate', '-f', join(seed, 'input.yaml'), '-f', join(seed, 'virtualmesh.yaml'), ...SNAPSHOTS, '-o', 'json'])
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout)
    expect(list.apiVersion).toBe('v1')
    expect(list.kind).toBe('List')
    expect(list.statuses).toBeUndefined()
    expect(list.items.map((o: {kind: string}) => o.kind)).toContain('EnvoyFilter')
    expect(result.stderr).toMatch(/FailoverService\s+service-mesh-hub\s+reviews-failover\s+ACCEPTED/)
  })
  it('--show-status puts statuses into the JSON; a directory works as -f', async () => {
    const result = await runCli(['translate', '-f', seed, ...SNAPSHOTS, '-o', 'json', '--show-status'])
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout)
    expect(list.statuses.map((s: {name: string; state: string}) => `${s.name}=${s.state}`)).toContain('reviews-failover=ACCEPTED')
  })
  it('yaml by default; --output-dir writes one file per object per cluster and prints nothing', async () => {
    const yaml = await runCli(['translate', '-f', seed, ...SNAPSHOTS])
    expect(yaml.code).toBe(0)
    expect(yaml.stdout).toContain('kind: EnvoyFilter')
    expect(yaml.stdout).toContain('\n---\n')
    const dir = mkdtempSync(join(tmpdir(), 'smh-out-'))
    const written = await runCli(['translate', '-f', seed, ...SNAPSHOTS, '--output-dir', dir])
    expect(written.code).toBe(0)
    expect(written.stdout).toBe('')
    expect(readdirSync(join(dir, 'kind2'))).toContain('envoyfilter-istio-system-reviews-failover.yaml')
    expect(readdirSync(join(dir, 'kind3'))).toContain('destinationrule-default-reviews.yaml')
  })
  it('a selector that matches nothing: ACCEPTED, exit 0, one warning line on stderr naming the selector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smh-warn-'))
    writeFileSync(join(dir, 'a.yaml'), TP('nope', '  destinationSelector:\n  - kubeServiceMatcher: {labels: {app: nope}}\n  requestTimeout: 1s'))
    const result = await runCli(['translate', '-f', join(dir, 'a.yaml'), ...SNAPSHOTS])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/TrafficPolicy\s+service-mesh-hub\s+nope\s+ACCEPTED/)
    expect(result.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
      'warning: TrafficPolicy/service-mesh-hub/nope: spec.destinationSelector[0]: kubeServiceMatcher {labels: {app: nope}} matches no service in any registered cluster',
    ])
  })
  it('--help shows examples as kubectl smh translate', async () => {
    const help = await runCli(['translate', '--help'])
    expect(help.stdout).toContain('$ kubectl smh translate -f')
  })
})
