/**
 * The wizards of the verbs, through the built CLI (bin/run.js) in a real pseudo-terminal, against this file's own
 * three clusters (installed and registered through the CLI): typed into as a person would (arrow keys, space,
 * enter, Ctrl-C, text), each run ends with the resource really written and synced and the printed
 * `kubectl smh ...` line, which run again without a terminal changes nothing. Ctrl-C, declining and --dry-run write
 * nothing anywhere (audit logs); without a terminal the verbs exit 2 naming the missing flags.
 */
import {execFileSync} from 'node:child_process'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {KubernetesObject} from '@kubernetes/client-node'

import {NETWORKING_API_VERSION} from '../../src/api/types.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {type CliResult, RUN_JS, runCli} from '../support/cli.js'
import {type AuditMarks, type SeededClusters, startRegisteredClusters} from '../support/clusters.js'
import {KEYS, type PtyOptions, type PtyResult, type PtyStep, runInPty} from '../support/pty.js'

const {down, enter, space, backspace, ctrlC, ctrlU} = KEYS
const times = (key: string, n: number) => key.repeat(n)
/** Wait until the cursor (inquirer's ❯) is on this entry. */
const cursorOn = (entry: string) => new RegExp(`❯\\s*[◯◉]?\\s*${entry.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\s|$)`)

let env: SeededClusters
const smh = (args: string[]): Promise<CliResult> => runCli(args, {env: {KUBECONFIG: env.kubeconfig}})
const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig: env.kubeconfig}), context)

/** The verb in a pty, stdout on its own pipe (the wizard draws on stderr, so stdout must hold the result only). */
function wizard(args: string[], steps: PtyStep[], options: PtyOptions = {}): Promise<PtyResult> {
  return runInPty(process.execPath, [RUN_JS, ...args], {stdout: 'pipe', ...options, steps, env: {KUBECONFIG: env.kubeconfig, NO_COLOR: '1', ...options.env}})
}

/** The `kubectl smh ...` line the wizard printed after "Next time:". */
function nextTime(result: PtyResult): string {
  const match = /Next time: (kubectl smh [^\n]*)/.exec(result.screen)
  if (!match) throw new Error(`no "Next time:" line on the screen:\n${result.screen.slice(-2000)}`)
  return match[1].trim()
}

/** The words a POSIX shell makes of the line, without `kubectl smh`: run without a terminal, as typed later. */
async function runLine(line: string): Promise<CliResult> {
  const words = execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], {encoding: 'utf8'}).split('\0').slice(0, -1)
  expect(words.slice(0, 2)).toEqual(['kubectl', 'smh'])
  return smh(words.slice(2))
}

const stored = (kind: string, name: string, namespace = 'service-mesh-hub') =>
  client('kind1').readIfExists<KubernetesObject & {spec: Record<string, unknown>}>({apiVersion: NETWORKING_API_VERSION, kind, metadata: {name, namespace}})

const istio = (cluster: string, apiVersion: string, kind: string, name: string, namespace: string) =>
  client(cluster).readIfExists<KubernetesObject & {spec: Record<string, unknown>}>({apiVersion, kind, metadata: {name, namespace}})

/** Our identities: the user's (the test kubeconfig's admin token) and every registered cluster's service account. */
/** Every write request (dry runs left out) we made in any of the three clusters since the mark. */
const writesSince = (mark: AuditMarks): Promise<string[]> => env.ourWritesSince(mark, {skipReviews: true})

const ok = (result: CliResult | PtyResult, screen = 'stderr' in result ? result.stderr : result.screen) => {
  expect(screen).not.toMatch(/^Error:/m)
  expect(result.code).toBe(0)
}

beforeAll(async () => {
  env = await startRegisteredClusters({audit: true})
})
afterAll(async () => {
  await env?.stop()
})

describe('no terminal: exit 2, one line naming every missing flag, before any cluster is contacted', () => {
  it.each([
    [['create', 'virtualmesh'], 'missing NAME, --mesh'],
    [['add', 'failoverservice', 'reviews-failover'], 'missing --hostname, --port, --backing'],
    [['shift', 'traffic'], 'missing SERVICE, --to or --to-failover'],
    [['set', 'outlier'], 'missing SERVICE'],
    [['set', 'route', 'kind2/default/reviews'], 'missing --timeout or --retries'],
    [['allow', 'access', '--to', 'kind2/default/reviews'], 'missing --from'],
  ])('%j', async (args, missing) => {
    const mark = env.markAudit()
    const result = await smh(args)
    expect({code: result.code, stdout: result.stdout, stderr: result.stderr}).toEqual({code: 2, stdout: '', stderr: `Error: ${missing} (or run on a terminal for a wizard)\n`})
    expect(await writesSince(mark)).toEqual([])
  })

  it('in CI, even on a terminal: the same exit 2, no prompt drawn', async () => {
    const result = await wizard(['allow', 'access'], [], {env: {CI: 'true'}})
    expect(result.code).toBe(2)
    expect(result.screen).toContain('missing --from, --to (or run on a terminal for a wizard)')
    expect(result.screen).not.toContain('Allow calls from')
  })
})

describe('on a terminal', {timeout: 180_000}, () => {
  it('Ctrl-C in the middle of a wizard: exit 130, nothing written in any cluster', async () => {
    const mark = env.markAudit()
    const result = await wizard(['add', 'failoverservice'], [
      {waitFor: /Name of the failover service/, send: enter},
      {waitFor: /1st priority/, send: times(down, 3)},
      {waitFor: cursorOn('kind2/default/reviews'), send: enter},
      {waitFor: /2nd priority/, send: ctrlC},
    ])
    expect(result.code).toBe(130)
    expect(result.stdout).toBe('')
    expect(result.screen).toContain('interrupted')
    expect(result.screen).not.toContain('Next time')
    expect(await writesSince(mark)).toEqual([])
  })

  it('--dry-run with missing flags: the wizard asks, then the plan is printed (stdout -o json) and nothing is written', async () => {
    const mark = env.markAudit()
    const result = await wizard(['create', 'virtualmesh', '--dry-run', '-o', 'json'], [
      {waitFor: /Name of the virtual mesh/, send: enter},
      {waitFor: /istiod-istio-system-kind2 {2}\(cluster kind2, trust domain kind2\)[\s\S]*istiod-istio-system-kind3 {2}\(cluster kind3, trust domain kind3\)/, send: space + down + space + enter},
      {waitFor: /Restart istiod and the gateways/, send: enter},
      {waitFor: /Global access policy/, send: enter},
    ])
    ok(result)
    expect(result.screen).not.toContain('Apply?')
    expect(nextTime(result)).toBe('kubectl smh create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --dry-run --output json')
    const plan = JSON.parse(result.stdout)
    expect(plan.dryRun).toBe(true)
    expect(plan.applied).toEqual([{resource: 'VirtualMesh/service-mesh-hub/virtual-mesh', action: 'created'}])
    // The verb's default federation is on demand: nothing routes across clusters yet, so nothing is federated.
    expect(plan.resources[0].spec.federation).toEqual({onDemand: {}})
    expect(plan.estimate.mode).toBe('onDemand')
    expect((plan.objects.kind2 ?? []).map((o: KubernetesObject) => `${o.kind}/${o.metadata!.name}`)).not.toContain('ServiceEntry/reviews.default.svc.kind3.global')
    expect(await writesSince(mark)).toEqual([])
    expect(await stored('VirtualMesh', 'virtual-mesh')).toBeUndefined()
  })

  it('create virtualmesh: meshes by checkbox, the plan, Apply? yes: written, synced, and the printed line is faithful', async () => {
    const result = await wizard(['create', 'virtualmesh'], [
      {waitFor: /Name of the virtual mesh/, send: enter}, // the default, virtual-mesh
      {waitFor: /istiod-istio-system-kind3 {2}\(cluster kind3/, send: enter},
      {waitFor: /select at least one mesh/, send: space + down + space},
      {waitFor: cursorOn('istiod-istio-system-kind3'), send: enter},
      {waitFor: /Restart istiod and the gateways/, send: `y${enter}`},
      {waitFor: /Global access policy/, send: enter},
      {waitFor: /VirtualMesh\/service-mesh-hub\/virtual-mesh would be created \(dry run\)[\s\S]*Apply\? \(y\/N\)/, send: `y${enter}`},
    ])
    ok(result)
    const line = nextTime(result)
    expect(line).toBe('kubectl smh create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --auto-restart-pods')
    expect(result.stdout).toContain('VirtualMesh/service-mesh-hub/virtual-mesh created')

    const vm = await stored('VirtualMesh', 'virtual-mesh')
    expect((vm!.spec.meshes as {name: string}[]).map((m) => m.name)).toEqual(['istiod-istio-system-kind2', 'istiod-istio-system-kind3'])
    expect(vm!.spec.federation).toEqual({onDemand: {}})
    expect(await istio('kind3', 'v1', 'Secret', 'cacerts', 'istio-system')).toBeDefined()

    const again = await runLine(line)
    ok(again)
    expect(again.stdout).toContain('VirtualMesh/service-mesh-hub/virtual-mesh unchanged')
  })

  it('create virtualmesh with every mesh taken: nothing to pick, exit 2 in one line', async () => {
    const result = await wizard(['create', 'virtualmesh', 'other'], [])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.screen).toContain('Error: every discovered mesh is already in a virtual mesh (service-mesh-hub/virtual-mesh)')
  })

  it('add failoverservice: priorities one by one, port and hostname checked as typed (with the verb\'s own checks); written and synced', async () => {
    const result = await wizard(['add', 'failoverservice'], [
      {waitFor: /Name of the failover service/, send: `reviews-failover${enter}`},
      {waitFor: /1st priority/, send: times(down, 3)},
      {waitFor: cursorOn('kind2/default/reviews'), send: enter},
      {waitFor: /2nd priority \(or done: kind2\/default\/reviews\)/},
      {waitFor: cursorOn('kind3/default/reviews'), send: enter}, // the cursor starts on the same service in kind3
      {waitFor: /3rd priority \(or done: kind2\/default\/reviews > kind3\/default\/reviews\)/, send: enter}, // done
      {waitFor: /Port \(and protocol\)[^\n]*\(9080\/http\)/, send: `9081${enter}`},
      {waitFor: /kind2\/default\/reviews has no port 9081 \(its ports: 9080\/http\)/, send: `${backspace}0${enter}`},
      {waitFor: /Hostname clients will call/, send: `Reviews.Global${enter}`},
      {waitFor: /lower case only: reviews\.global/, send: `${ctrlU}reviews-failover.default.local${enter}`},
      {waitFor: /must end in \.global/, send: `${ctrlU}reviews-failover.default.global${enter}`},
      {waitFor: /added TrafficPolicy service-mesh-hub\/reviews-failover-outlier[\s\S]*FailoverService\/service-mesh-hub\/reviews-failover would be created \(dry run\)[\s\S]*Apply\? \(y\/N\)/, send: `y${enter}`},
    ])
    ok(result)
    const line = nextTime(result)
    expect(line).toBe('kubectl smh add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080/http --backing kind2/default/reviews --backing kind3/default/reviews')
    expect(result.stdout).toContain('FailoverService/service-mesh-hub/reviews-failover created')
    expect(result.stdout).not.toContain('priority')

    const fs = await stored('FailoverService', 'reviews-failover')
    expect(fs!.spec.hostname).toBe('reviews-failover.default.global')
    expect((fs!.spec.backingServices as {kubeService: {clusterName: string}}[]).map((b) => b.kubeService.clusterName)).toEqual(['kind2', 'kind3'])
    expect(await stored('TrafficPolicy', 'reviews-failover-outlier')).toBeDefined()
    expect(await istio('kind2', 'networking.istio.io/v1beta1', 'ServiceEntry', 'reviews-failover', 'istio-system')).toBeDefined()
    expect(await istio('kind2', 'networking.istio.io/v1alpha3', 'EnvoyFilter', 'reviews-failover', 'istio-system')).toBeDefined()

    const again = await runLine(line)
    ok(again)
    expect(again.stdout).toContain('FailoverService/service-mesh-hub/reviews-failover unchanged')
    expect(again.stdout).toContain('TrafficPolicy/service-mesh-hub/reviews-failover-outlier unchanged')
  })

  it('shift traffic: weights with the running total; past 100 refused, done refused until 100; written and synced', async () => {
    const result = await wizard(['shift', 'traffic'], [
      {waitFor: /Shift the traffic of which service/, send: times(down, 3)},
      {waitFor: cursorOn('kind2/default/reviews'), send: enter},
      {waitFor: /failover service reviews-failover {2}\(reviews-failover\.default\.global, kind2\/default\/reviews > kind3\/default\/reviews\)[\s\S]*services or subsets, by weight/, send: down},
      {waitFor: cursorOn('services or subsets, by weight'), send: enter},
      {waitFor: /Destination 1 \(0 of 100 so far\)/, send: down},
      {waitFor: cursorOn('kind2/default/reviews:version=v1'), send: enter},
      {waitFor: /Weight for kind2\/default\/reviews:version=v1 \(0 of 100 so far, 100 left\)/, send: `50${enter}`},
      {waitFor: /50 of 100 so far/},
      {waitFor: /Destination 2 \(50 of 100 so far\)[\s\S]*done \(not yet: the weights add up to 50, not 100\)/, send: times(down, 5)},
      {waitFor: cursorOn('kind3/default/reviews:version=v3'), send: enter},
      {waitFor: /Weight for kind3\/default\/reviews:version=v3 \(50 of 100 so far, 50 left\)/, send: `70${enter}`},
      {waitFor: /50 \+ 70 = 120, over 100: at most 50 left/, send: `${backspace.repeat(2)}50${enter}`},
      {waitFor: /100 of 100 so far: done[\s\S]*TrafficPolicy\/service-mesh-hub\/reviews-shift would be created \(dry run\)[\s\S]*Apply\? \(y\/N\)/, send: `y${enter}`},
    ])
    ok(result)
    const line = nextTime(result)
    expect(line).toBe('kubectl smh shift traffic kind2/default/reviews --to kind2/default/reviews:version=v1=50 --to kind3/default/reviews:version=v3=50')
    expect(result.stdout).toContain('TrafficPolicy/service-mesh-hub/reviews-shift created')

    const policy = await stored('TrafficPolicy', 'reviews-shift')
    expect((policy!.spec.trafficShift as {destinations: {weight: number}[]}).destinations.map((d) => d.weight)).toEqual([50, 50])
    const vs = await istio('kind2', 'networking.istio.io/v1beta1', 'VirtualService', 'reviews', 'default')
    const weights = ((vs!.spec.http as {route: {weight: number; destination: {host: string}}[]}[])[0].route).map((r) => `${r.destination.host}=${r.weight}`)
    expect(weights).toEqual(['reviews.default.svc.cluster.local=50', 'reviews.default.svc.kind3.global=50'])

    const again = await runLine(line)
    ok(again)
    expect(again.stdout).toContain('TrafficPolicy/service-mesh-hub/reviews-shift unchanged')
  })

  it('Ctrl-C at "Apply?" (after the dry-run plan): exit 130, nothing written', async () => {
    const mark = env.markAudit()
    const result = await wizard(['shift', 'traffic', 'kind2/default/ratings'], [
      {waitFor: /Send kind2\/default\/ratings's traffic to/, send: enter}, // failover service reviews-failover
      {waitFor: /Apply\?/, send: ctrlC},
    ])
    expect(result.code).toBe(130)
    expect(result.stdout).toBe('')
    expect(result.screen).not.toContain('Next time')
    expect(await writesSince(mark)).toEqual([])
  })

  it('allow access: declining "Apply?" exits 0, writes nothing, and shows the command for later', async () => {
    const mark = env.markAudit()
    const result = await wizard(['allow', 'access'], [
      {waitFor: /Allow calls from/, send: down},
      {waitFor: cursorOn('kind2/default/bookinfo-productpage'), send: space + enter},
      {waitFor: /To \(services/, send: times(down, 3)},
      {waitFor: cursorOn('kind2/default/reviews'), send: space + enter},
      {waitFor: /AccessPolicy\/service-mesh-hub\/bookinfo-productpage-to-reviews would be created \(dry run\)[\s\S]*Apply\? \(y\/N\)/, send: enter}, // the default: no
    ])
    ok(result)
    expect(result.stdout).toBe('')
    expect(result.screen).toContain('Not applied: nothing was written.')
    expect(result.screen).toContain('To apply it later: kubectl smh allow access --from kind2/default/bookinfo-productpage --to kind2/default/reviews')
    expect(result.screen).not.toContain('Next time')
    expect(await writesSince(mark)).toEqual([])
    expect(await stored('AccessPolicy', 'bookinfo-productpage-to-reviews')).toBeUndefined()
  })

  it('set outlier: services of different names get a name asked; answers equal to the defaults are left out', async () => {
    const result = await wizard(['set', 'outlier'], [
      {waitFor: /Services to eject failing endpoints from/, send: space + times(down, 2)},
      {waitFor: cursorOn('kind2/default/ratings'), send: space + enter}, // kind2/default/details and kind2/default/ratings
      {waitFor: /Name of the TrafficPolicy \(the services have different names: details, ratings\) \(details-outlier\)/, send: `${ctrlU}details-ratings-outlier${enter}`},
      {waitFor: /Consecutive errors before an endpoint is ejected \(5\)/, send: `1${enter}`},
      {waitFor: /How often endpoints are checked \(10s\)/, send: `10${enter}`},
      {waitFor: /a duration with a unit: 500ms, 10s, 2m, 1h/, send: `s${enter}`},
      {waitFor: /Base ejection time \(30s\)/, send: `2m${enter}`},
      {waitFor: /At most this % of endpoints ejected \(100\)/, send: enter},
      {waitFor: /Apply\?/, send: `y${enter}`},
    ])
    ok(result)
    const line = nextTime(result)
    expect(line).toBe('kubectl smh set outlier kind2/default/details kind2/default/ratings --consecutive-errors 1 --base-ejection-time 2m --name details-ratings-outlier')
    expect((await stored('TrafficPolicy', 'details-ratings-outlier'))!.spec.outlierDetection).toEqual({consecutiveErrors: 1, baseEjectionTime: '2m'})
    const again = await runLine(line)
    ok(again)
    expect(again.stdout).toContain('TrafficPolicy/service-mesh-hub/details-ratings-outlier unchanged')
  })

  it('set route: asks only for what was not given, and for something to set; -n and --no-sync carried into the printed line', async () => {
    const result = await wizard(['set', 'route', 'kind2/default/ratings', '-n', 'default', '--no-sync'], [
      {waitFor: /Request timeout/, send: enter},
      {waitFor: /Retries \(empty for none\)/, send: enter},
      {waitFor: /Nothing to set: give a timeout, retries, or both\.[\s\S]*Request timeout/, send: `5s${enter}`},
      {waitFor: /Retries/, send: `3${enter}`},
      {waitFor: /Timeout per try/, send: `2s${enter}`},
      {waitFor: /Apply\?/, send: `y${enter}`},
    ])
    ok(result)
    expect(result.screen).not.toContain('Services whose routes')
    const line = nextTime(result)
    expect(line).toBe('kubectl smh set route kind2/default/ratings --timeout 5s --retries 3 --per-try-timeout 2s --namespace default --no-sync')
    expect((await stored('TrafficPolicy', 'ratings-route', 'default'))!.spec).toMatchObject({requestTimeout: '5s', retries: {attempts: 3, perTryTimeout: '2s'}})
    const again = await runLine(line)
    ok(again)
    expect(again.stdout).toContain('TrafficPolicy/default/ratings-route unchanged')
  })
})
