/**
 * describe, check and simulate (issue 10) on their own three real clusters, through the built CLI, after the seed's
 * walkthrough with the verbs: describe shows the generated objects per cluster; check passes, then fails with the
 * right ✗ and fix after kind3's cacerts is deleted (and passes again after sync), after the outlier policy is
 * deleted, and after another field manager edits a generated object; simulate shows kind2 serving, and kind3 after
 * --fail kind2. None of them writes anything.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PatchStrategy} from '@kubernetes/client-node'

import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type AuditMarks, type SeededClusters, startRegisteredClusters} from '../support/clusters.js'

let env: SeededClusters
const smh = (args: string[]): Promise<CliResult> => runCli(args, {env: {KUBECONFIG: env.kubeconfig}})
const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig: env.kubeconfig}), context)
const writesSince = (mark: AuditMarks): Promise<string[]> => env.ourWritesSince(mark, {skipReviews: true})

const ok = (result: CliResult) => {
  expect(result.stderr).not.toMatch(/^Error:/m)
  expect(result.code).toBe(0)
}

/** The check lines of one group (`cluster kind3`), as printed. */
function group(stdout: string, name: string): string[] {
  const blocks = stdout.split('\n\n')
  const block = blocks.find((b) => b.startsWith(`${name}\n`))
  return block ? block.split('\n').slice(2) : []
}

beforeAll(async () => {
  env = await startRegisteredClusters({audit: true})
  ok(await smh(['create', 'virtualmesh', 'virtual-mesh', '--mesh', 'istiod-istio-system-kind2', '--mesh', 'istiod-istio-system-kind3', '--auto-restart-pods', '--federation', 'all']))
  ok(await smh(['set', 'outlier', 'kind2/default/reviews', 'kind3/default/reviews', '--name', 'mgmt-reviews-outlier', '--consecutive-errors', '1', '--interval', '10s', '--base-ejection-time', '2m']))
  ok(await smh(['add', 'failoverservice', 'reviews-failover', '--hostname', 'reviews-failover.default.global', '--port', '9080/http', '--backing', 'kind2/default/reviews', '--backing', 'kind3/default/reviews']))
  ok(await smh(['shift', 'traffic', 'kind2/default/reviews', '--to-failover', 'reviews-failover', '-n', 'default']))
}, 300_000)
afterAll(async () => {
  await env?.stop()
})

describe('describe', () => {
  it('service: the generated objects per cluster, all in place, policies and the failover it backs; writes nothing', async () => {
    const mark = env.markAudit()
    const table = await smh(['describe', 'service', 'kind2/default/reviews'])
    ok(table)
    expect(table.stdout).toMatch(/Mesh:\s+istiod-istio-system-kind2/)
    expect(table.stdout).toMatch(/kind2\s+VirtualService\s+default\s+reviews\s+yes/)
    expect(table.stdout).toMatch(/kind2\s+EnvoyFilter\s+istio-system\s+reviews-failover\s+yes/)
    expect(table.stdout).toMatch(/kind3\s+ServiceEntry\s+istio-system\s+reviews\.default\.svc\.kind2\.global\s+yes/)
    expect(table.stdout).toMatch(/FailoverService\/service-mesh-hub\/reviews-failover\s+reviews-failover\.default\.global\s+1 of 2\s+ACCEPTED/)
    const data = JSON.parse((await smh(['describe', 'svc', 'reviews-default-kind2', '-o', 'json'])).stdout)
    expect(data.policies.map((p: {id: string}) => p.id).sort()).toEqual(['TrafficPolicy/default/reviews-shift-failover', 'TrafficPolicy/service-mesh-hub/mgmt-reviews-outlier'])
    expect(new Set(data.generated.map((g: {cluster: string}) => g.cluster))).toEqual(new Set(['kind2', 'kind3']))
    expect(data.generated.every((g: {live: boolean}) => g.live)).toBe(true)
    expect(await writesSince(mark)).toEqual([])
  })

  it('failoverservice, virtualmesh, cluster, trafficpolicy', async () => {
    const fs = await smh(['describe', 'failoverservice', 'reviews-failover'])
    ok(fs)
    expect(fs.stdout).toMatch(/Serving now:\s+kind2\/default\/reviews/)
    expect(fs.stdout).toMatch(/2\s+kind3\/default\/reviews\s+\d+\/\d+\s+.*maxEjectionPercent 100/)
    const vm = JSON.parse((await smh(['describe', 'vm', 'virtual-mesh', '-o', 'json'])).stdout)
    expect(vm.root.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(vm.meshes.map((m: {intermediate: {chainsToRoot: boolean; daysLeft: number}}) => m.intermediate.chainsToRoot && m.intermediate.daysLeft > 30)).toEqual([true, true])
    expect(vm.federation.find((f: {service: string}) => f.service === 'kind3/default/reviews').visibleIn).toEqual(['kind2'])
    const cluster = await smh(['describe', 'cluster', 'kind3'])
    ok(cluster)
    expect(cluster.stdout).toMatch(/API server:\s+v1\.\d+/)
    expect(cluster.stdout).toMatch(/Token expires:\s+\S+ \(\d+ days\)/)
    expect(cluster.stdout).toMatch(/istio-system\/istio-ingressgateway \S+:\d+/)
    ok(await smh(['describe', 'tp', 'default/reviews-shift-failover']))
  })

  it('a missing name: exit 2, one line with the nearest names, nothing on stdout', async () => {
    const result = await smh(['describe', 'fs', 'reviews-failovr'])
    expect({code: result.code, stdout: result.stdout}).toEqual({code: 2, stdout: ''})
    expect(result.stderr).toMatch(/^Error: FailoverService reviews-failovr not found; nearest: reviews-failover$/m)
    const svc = await smh(['describe', 'service', 'kind2/default/reviewz'])
    expect(svc.code).toBe(2)
    expect(svc.stderr).toContain('nearest: kind2/default/reviews')
  })
})

describe('simulate', () => {
  it('kind2 serves reviews; with --fail kind2, kind3 does', async () => {
    const mark = env.markAudit()
    const result = await smh(['simulate', 'kind2/default/reviews', '--from', 'kind2', '--fail', 'kind2'])
    ok(result)
    const [healthy, failed] = result.stdout.split(/With kind2 failed:/)
    expect(healthy).toMatch(/priority 1: kind2\/default\/reviews via local, \d+ ready {2}← serves/)
    expect(failed).toMatch(/priority 1: kind2\/default\/reviews via local, FAILED \(--fail\)/)
    expect(failed).toMatch(/priority 2: kind3\/default\/reviews via gateway \S+:\d+, \d+ ready {2}← serves/)
    const data = JSON.parse((await smh(['simulate', 'reviews-default-kind2', '--fail', 'kind2', '-o', 'json'])).stdout)
    expect(data.healthy[0].routes[0].destinations[0].servedBy).toBe('kind2/default/reviews')
    expect(data.failed[0].routes[0].destinations[0].servedBy).toBe('kind3/default/reviews')
    expect(data.warnings).toEqual([])
    expect(await writesSince(mark)).toEqual([])
  })
})

describe('check', () => {
  it('passes after the walkthrough: every line ✓, grouped by cluster, exit 0, no write', async () => {
    const mark = env.markAudit()
    const result = await smh(['check'])
    ok(result)
    expect(result.stdout).not.toMatch(/^✗/m)
    expect(group(result.stdout, 'management (kind1)')).toContain('✓ every SMH resource ACCEPTED at its current generation')
    for (const cluster of ['kind2', 'kind3']) {
      const lines = group(result.stdout, `cluster ${cluster}`)
      expect(lines.join('\n')).toMatch(/✓ reachable with its stored token \(expires/)
      expect(lines.join('\n')).toMatch(new RegExp(`✓ istiod-istio-system-${cluster}: cacerts chains to virtual-mesh's root`))
      expect(lines.join('\n')).toMatch(/✓ reviews-failover: backing default\/reviews has outlier detection \(maxEjectionPercent 100\)/)
      expect(lines).toContain('✓ no generated object changed by another field manager')
    }
    expect(await writesSince(mark)).toEqual([])
  })

  it('kind3 without cacerts: ✗ under kind3 with the fix, exit 1; sync fixes it', async () => {
    await client('kind3').deleteIfExists({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cacerts', namespace: 'istio-system'}})
    const result = await smh(['check'])
    expect(result.code).toBe(1)
    const kind3 = group(result.stdout, 'cluster kind3').join('\n')
    expect(kind3).toMatch(/✗ istiod-istio-system-kind3: cacerts chains to virtual-mesh's root, valid > 30 days\n {4}no Secret cacerts in istio-system.*\n {4}fix: kubectl smh sync/)
    expect(group(result.stdout, 'cluster kind2').join('\n')).not.toMatch(/✗/)
    expect(result.stderr).toMatch(/Error: 1 check failed/)
    ok(await smh(['sync']))
    ok(await smh(['check']))
  })

  it('the outlier policy deleted: ✗ for each backing service with set outlier as the fix', async () => {
    ok(await smh(['delete', 'tp', 'mgmt-reviews-outlier']))
    const result = await smh(['check'])
    expect(result.code).toBe(1)
    for (const cluster of ['kind2', 'kind3']) {
      expect(group(result.stdout, `cluster ${cluster}`).join('\n')).toMatch(new RegExp(`✗ reviews-failover: backing default/reviews has outlier detection\\n {4}no accepted TrafficPolicy gives it outlierDetection.*\\n {4}fix: kubectl smh set outlier ${cluster}/default/reviews --max-ejection-percent 100`))
    }
    expect(group(result.stdout, 'management (kind1)').join('\n')).toMatch(/✗ FailoverService\/service-mesh-hub\/reviews-failover ACCEPTED at generation 1\n {4}INVALID: .*outlierDetection/)
    const simulated = JSON.parse((await smh(['simulate', 'kind2/default/reviews', '-o', 'json'])).stdout)
    expect(simulated.warnings.join('\n')).toMatch(/reviews-failover, which kind2\/default\/reviews backs, is INVALID/)
  })

  it('a generated object edited by another field manager: ✗ naming it and the manager', async () => {
    await client('kind2').objects.patch({apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry', metadata: {name: 'reviews.default.svc.kind3.global', namespace: 'istio-system', annotations: {'edited-by': 'hand'}}} as never,
      undefined, undefined, 'kubectl-edit', undefined, PatchStrategy.MergePatch)
    const result = await smh(['check', '-o', 'json'])
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout)
    const kind2 = report.groups.find((g: {name: string}) => g.name === 'cluster kind2')
    expect(kind2.checks.find((c: {title: string}) => c.title === 'no generated object changed by another field manager')).toMatchObject({
      state: 'fail', detail: 'ServiceEntry/istio-system/reviews.default.svc.kind3.global by kubectl-edit'})
  })
})
