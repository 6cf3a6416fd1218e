/**
 * The wizards in a real pseudo-terminal, typed into as a person would: wait for the question, then press arrow
 * keys, space, enter, Ctrl-C, or type text. They run through test/support/wizard-entry.ts (a BaseCommand that
 * calls each wizard with choices from the seed snapshots) until the verb commands exist; then `run` below points
 * at bin/run.js and the arguments become the verbs' own.
 */
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

import {KEYS, type PtyOptions, type PtyStep, runInPty} from '../support/pty.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENTRY = ['--import', 'tsx', 'test/support/wizard-entry.ts']
const {down, enter, space, backspace, ctrlC, ctrlU} = KEYS
const times = (key: string, n: number) => key.repeat(n)

/** Runs a wizard in a pty with stdout on its own pipe (so stdout can be checked to hold data only). */
function run(verb: string, steps: PtyStep[], extra: string[] = [], options: PtyOptions = {}) {
  return runInPty(process.execPath, [...ENTRY, '--verb', verb, ...extra], {cwd: ROOT, stdout: 'pipe', env: {NO_COLOR: '1'}, steps, ...options})
}

const parsed = (stdout: string) => JSON.parse(stdout) as {flags: Record<string, unknown>; command: string}

describe('the wizards in a terminal', {timeout: 180_000}, () => {
  it('add failoverservice: priorities picked one by one, port and hostname checked as typed, then the command to use next time', async () => {
    const result = await run('add failoverservice', [
      {waitFor: /Name of the failover service/, send: `reviews-failover${enter}`},
      {waitFor: /1st priority/, send: times(down, 3) + enter}, // kind2/default/reviews
      {waitFor: /2nd priority \(or done: kind2\/default\/reviews\)/, send: enter}, // the cursor starts on kind3/default/reviews
      {waitFor: /3rd priority \(or done: kind2\/default\/reviews > kind3\/default\/reviews\)/, send: enter}, // done
      {waitFor: /Port \(and protocol\)[^\n]*\(9080\/http\)/, send: `9081${enter}`},
      {waitFor: /kind2\/default\/reviews has no port 9081 \(its ports: 9080\/http\)/, send: `${backspace}0${enter}`},
      {waitFor: /Hostname clients will call/, send: `Reviews.Global${enter}`},
      {waitFor: /lower case only: reviews\.global/, send: `${ctrlU}reviews-failover.default.global${enter}`},
      {waitFor: /Plan \(dry run[\s\S]*Apply\? \(y\/N\)/, send: `y${enter}`},
    ])
    expect(result.code).toBe(0)
    const command = 'kubectl smh add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080/http '
      + '--backing kind2/default/reviews --backing kind3/default/reviews --mgmt-context kind1'
    expect(parsed(result.stdout)).toEqual({
      flags: {name: 'reviews-failover', hostname: 'reviews-failover.default.global', port: '9080/http', backing: ['kind2/default/reviews', 'kind3/default/reviews']},
      command,
    })
    expect(result.screen).toContain(`Next time: ${command}`)
    // The wizard draws on stderr: nothing of it on stdout, and stdout's JSON not on the screen.
    expect(result.stdout).not.toContain('priority')
    expect(result.screen).not.toContain('"flags"')
  })

  it('create virtualmesh: meshes by checkbox with their clusters and trust domains, restart and access policy asked', async () => {
    const result = await run('create virtualmesh', [
      {waitFor: /Name of the virtual mesh/, send: enter}, // the default, virtual-mesh
      {waitFor: /istiod-istio-system-kind2 {2}\(cluster kind2, trust domain kind2\)[\s\S]*istiod-istio-system-kind3 {2}\(cluster kind3, trust domain kind3\)/, send: enter},
      {waitFor: /select at least one mesh/, send: space + down + space + enter},
      {waitFor: /Restart istiod and the gateways/, send: `y${enter}`},
      {waitFor: /Global access policy/, send: down + enter},
      {waitFor: /Apply\?/, send: `y${enter}`},
    ])
    expect(result.code).toBe(0)
    expect(parsed(result.stdout)).toEqual({
      flags: {name: 'virtual-mesh', mesh: ['istiod-istio-system-kind2', 'istiod-istio-system-kind3'], autoRestartPods: true, globalAccessPolicy: 'enabled'},
      command: 'kubectl smh create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --auto-restart-pods --global-access-policy enabled --mgmt-context kind1',
    })
  })

  it('create virtualmesh: the meshes of an existing VirtualMesh come checked when it is the one named, and are refused to another', async () => {
    const same = await run('create virtualmesh', [
      {waitFor: /Name of the virtual mesh/, send: `virtual-mesh${enter}`},
      {waitFor: /◉ istiod-istio-system-kind2[\s\S]*◉ istiod-istio-system-kind3/, send: enter},
      {waitFor: /Restart istiod/, send: enter},
      {waitFor: /Global access policy/, send: enter},
    ], ['--resources', 'seed', '--no-plan'])
    expect(same.code).toBe(0)
    expect(parsed(same.stdout).flags).toEqual({name: 'virtual-mesh', mesh: ['istiod-istio-system-kind2', 'istiod-istio-system-kind3']})
    expect(same.screen).not.toContain('Apply?')

    const other = await run('create virtualmesh', [{waitFor: /Name of the virtual mesh/, send: `other${enter}`}], ['--resources', 'seed'])
    expect(other.code).toBe(2)
    expect(other.stdout).toBe('')
    expect(other.screen).toContain('every discovered mesh is already in a virtual mesh (service-mesh-hub/virtual-mesh)')
  })

  it('shift traffic: weights with a running total; a weight past 100 is refused and done waits for exactly 100', async () => {
    const result = await run('shift traffic', [
      {waitFor: /Shift the traffic of which service/, send: times(down, 3) + enter}, // kind2/default/reviews
      // Its namesakes first, each with its subsets: kind2/default/reviews, :version=v1, :version=v2, kind3/default/reviews, ...
      {waitFor: /Destination 1 \(0 of 100 so far\)/, send: down + enter},
      {waitFor: /Weight for kind2\/default\/reviews:version=v1 \(0 of 100 so far, 100 left\)/, send: `50${enter}`},
      {waitFor: /Destination 2 \(50 of 100 so far\)[\s\S]*done \(not yet: the weights add up to 50, not 100\)/, send: times(down, 5) + enter},
      {waitFor: /Weight for kind3\/default\/reviews:version=v3 \(50 of 100 so far, 50 left\)/, send: `70${enter}`},
      {waitFor: /50 \+ 70 = 120, over 100: at most 50 left/, send: `${backspace}${backspace}50${enter}`},
      {waitFor: /100 of 100 so far: done[\s\S]*Apply\?/, send: `y${enter}`},
    ])
    expect(result.code).toBe(0)
    expect(parsed(result.stdout)).toEqual({
      flags: {service: 'kind2/default/reviews', to: ['kind2/default/reviews:version=v1=50', 'kind3/default/reviews:version=v3=50']},
      command: 'kubectl smh shift traffic kind2/default/reviews --to kind2/default/reviews:version=v1=50 --to kind3/default/reviews:version=v3=50 --mgmt-context kind1',
    })
  })

  it('shift traffic to a FailoverService: the seed\'s last step', async () => {
    const result = await run('shift traffic', [
      {waitFor: /Shift the traffic of which service/, send: times(down, 3) + enter},
      {waitFor: /failover service reviews-failover {2}\(reviews-failover\.default\.global, kind2\/default\/reviews > kind3\/default\/reviews\)/, send: enter},
      {waitFor: /Apply\?/, send: `y${enter}`},
    ], ['--resources', 'seed'])
    expect(result.code).toBe(0)
    expect(parsed(result.stdout).command).toBe('kubectl smh shift traffic kind2/default/reviews --to-failover reviews-failover --mgmt-context kind1')
  })

  it('set outlier: several services; a duration without a unit is refused; answers equal to the defaults are left out', async () => {
    const result = await run('set outlier', [
      {waitFor: /Services to eject failing endpoints from/, send: times(down, 3) + space + times(down, 4) + space + enter},
      {waitFor: /Consecutive errors before an endpoint is ejected \(5\)/, send: `1${enter}`},
      {waitFor: /How often endpoints are checked \(10s\)/, send: `10${enter}`},
      {waitFor: /a duration with a unit: 500ms, 10s, 2m, 1h/, send: `s${enter}`},
      {waitFor: /Base ejection time \(30s\)/, send: `2m${enter}`},
      {waitFor: /At most this % of endpoints ejected \(100\)/, send: enter},
      {waitFor: /Apply\?/, send: `y${enter}`},
    ])
    expect(result.code).toBe(0)
    expect(parsed(result.stdout)).toEqual({
      flags: {services: ['kind2/default/reviews', 'kind3/default/reviews'], consecutiveErrors: 1, baseEjectionTime: '2m'},
      command: 'kubectl smh set outlier kind2/default/reviews kind3/default/reviews --consecutive-errors 1 --base-ejection-time 2m --mgmt-context kind1',
    })
  })

  it('set route: asks only for what was not given, and for something to set', async () => {
    const result = await run('set route', [
      {waitFor: /Request timeout/, send: enter},
      {waitFor: /Retries \(empty for none\)/, send: enter},
      {waitFor: /Nothing to set: give a timeout, retries, or both\.[\s\S]*Request timeout/, send: `5s${enter}`},
      {waitFor: /Retries/, send: `3${enter}`},
      {waitFor: /Timeout per try/, send: `2s${enter}`},
    ], ['--given', JSON.stringify({services: ['kind2/default/reviews']}), '--no-plan'])
    expect(result.code).toBe(0)
    expect(result.screen).not.toContain('Services whose routes')
    expect(parsed(result.stdout).flags).toEqual({services: ['kind2/default/reviews'], timeout: '5s', retries: 3, perTryTimeout: '2s'})
    expect(result.screen).toContain('Next time: kubectl smh set route kind2/default/reviews --timeout 5s --retries 3 --per-try-timeout 2s --mgmt-context kind1')
  })

  it('allow access: declining "Apply?" exits 0 with nothing printed on stdout, and shows the command for later', async () => {
    const result = await run('allow access', [
      {waitFor: /Allow calls from/, send: down + space + enter}, // kind2/default/bookinfo-productpage
      {waitFor: /To \(services/, send: times(down, 3) + space + enter}, // kind2/default/reviews
      {waitFor: /Apply\? \(y\/N\)/, send: enter}, // the default: no
    ])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.screen).toContain('Not applied: nothing was written.')
    expect(result.screen).toContain('To apply it later: kubectl smh allow access --from kind2/default/bookinfo-productpage --to kind2/default/reviews --mgmt-context kind1')
    expect(result.screen).not.toContain('Next time')
  })

  it('Ctrl-C in the middle of a wizard, or at "Apply?", exits 130 with no flags printed', async () => {
    const middle = await run('add failoverservice', [
      {waitFor: /Name of the failover service/, send: enter},
      {waitFor: /1st priority/, send: times(down, 3) + enter},
      {waitFor: /2nd priority/, send: ctrlC},
    ])
    expect(middle.code).toBe(130)
    expect(middle.stdout).toBe('')
    expect(middle.screen).toContain('interrupted')
    expect(middle.screen).not.toContain('Next time')

    const atApply = await run('shift traffic', [
      {waitFor: /Shift the traffic of which service/, send: times(down, 3) + enter},
      {waitFor: /failover service reviews-failover/, send: enter},
      {waitFor: /Apply\?/, send: ctrlC},
    ], ['--resources', 'seed'])
    expect(atApply.code).toBe(130)
    expect(atApply.stdout).toBe('')
    expect(atApply.screen).not.toContain('Next time')
  })

  it('stdout on the terminal too (a plain interactive run): the flags follow the prompts', async () => {
    const result = await run('shift traffic', [
      {waitFor: /Shift the traffic of which service/, send: times(down, 3) + enter},
      {waitFor: /failover service reviews-failover/, send: enter},
    ], ['--resources', 'seed', '--no-plan'], {stdout: 'pty'})
    expect(result.code).toBe(0)
    expect(result.screen).toMatch(/Next time: kubectl smh shift traffic[^\n]*\n\{"flags":\{"service":"kind2\/default\/reviews","toFailover":"reviews-failover"\}/)
  })
})

describe('no terminal: the caller\'s check (canPrompt) before any wizard', {timeout: 120_000}, () => {
  it('without a TTY: exit 2, one line naming the missing flags, no prompt drawn', () => {
    const result = spawnSync(process.execPath, [...ENTRY, '--verb', 'add failoverservice', '--given', '{"name":"f"}'], {cwd: ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, input: ''})
    expect(result.status).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'Error: kubectl smh add failoverservice: missing --hostname, --port, --backing (no terminal for the wizard: pass them as arguments or flags; see kubectl smh add failoverservice --help)',
    ])
  })

  it('in CI, even on a terminal: exit 2 the same way', async () => {
    const result = await run('allow access', [], [], {env: {NO_COLOR: '1', CI: 'true'}})
    expect(result.code).toBe(2)
    expect(result.screen).toContain('missing --from, --to (no terminal for the wizard')
    expect(result.screen).not.toContain('Allow calls from')
  })
})
