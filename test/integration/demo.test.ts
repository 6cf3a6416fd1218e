import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {isAlive} from '../../src/controlplane/processes.js'
import {runCli} from '../support/cli.js'

// Its own demo folder, so a developer's running demo is never touched.
const env = {KUBECTL_SMH_DEMO_DIR: mkdtempSync(join(tmpdir(), 'smh-demo-'))}

describe('kubectl smh demo up | status | down', () => {
  let pids: number[] = []
  afterAll(async () => {
    await runCli(['demo', 'down'], {env})
  })

  it('starts the seeded clusters in the background and prints the export line', async () => {
    const kubeconfigCopy = join(env.KUBECTL_SMH_DEMO_DIR, '..', `smh-demo-kubeconfig-${process.pid}`)
    const up = await runCli(['demo', 'up', '--kubeconfig', kubeconfigCopy], {env})
    expect(up.stderr).toContain('3 clusters up')
    expect(up.code).toBe(0)
    expect(up.stdout.trim()).toMatch(/^export KUBECONFIG=\S+$/)
    const kubeconfig = up.stdout.trim().slice('export KUBECONFIG='.length)
    expect(readFileSync(kubeconfigCopy, 'utf8')).toBe(readFileSync(kubeconfig, 'utf8'))

    // The real kubectl, built with the API server, sees bookinfo in kind2.
    const kubectl = binaryPath('kubectl')
    const out = execFileSync(kubectl, ['--kubeconfig', kubeconfig, '--context', 'kind2', 'get', 'deploy', '-A'], {encoding: 'utf8'})
    for (const d of ['istiod', 'productpage-v1', 'reviews-v1', 'reviews-v2', 'details-v1', 'ratings-v1']) expect(out).toContain(d)
    expect(out).not.toContain('reviews-v3')
    const kind3 = execFileSync(kubectl, ['--kubeconfig', kubeconfig, '--context', 'kind3', 'get', 'pods', '-n', 'default'], {encoding: 'utf8'})
    expect(kind3).toMatch(/reviews-v3-\S+\s+2\/2\s+Running/)

    const status = JSON.parse((await runCli(['demo', 'status', '-o', 'json'], {env})).stdout)
    expect(status.processes.map((p: {name: string}) => p.name)).toEqual(['etcd', 'kind1', 'kind2', 'kind3'])
    expect(status.processes.every((p: {running: boolean}) => p.running)).toBe(true)
    pids = status.processes.map((p: {pid: number}) => p.pid)
  })

  it('a second demo up starts nothing new', async () => {
    const again = await runCli(['demo', 'up', '-o', 'json'], {env})
    expect(again.code).toBe(0)
    const result = JSON.parse(again.stdout)
    expect(result.alreadyRunning).toBe(true)
    expect([result.etcd.pid, ...result.clusters.map((c: {pid: number}) => c.pid)]).toEqual(pids)
  })

  it('demo up --walkthrough performs the seed walkthrough on the running demo, printing each command before it runs', async () => {
    const up = await runCli(['demo', 'up', '--walkthrough'], {env})
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout.trim()).toMatch(/^export KUBECONFIG=\S+$/) // stdout stays the one line a shell evals
    const kubeconfig = up.stdout.trim().slice('export KUBECONFIG='.length)
    const printed = [...up.stderr.matchAll(/^ {2}\$ kubectl smh (.+)$/gm)].map((m) => m[1])
    expect(printed).toEqual([
      'install',
      'register cluster kind2 --remote-context kind2',
      'register cluster kind3 --remote-context kind3',
      'create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --auto-restart-pods --federation all',
      'set outlier kind2/default/reviews kind3/default/reviews --name mgmt-reviews-outlier --consecutive-errors 1 --interval 10s --base-ejection-time 2m',
      'add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080/http --backing kind2/default/reviews --backing kind3/default/reviews',
      'shift traffic kind2/default/reviews --to-failover reviews-failover -n default',
    ])
    // Each step's result follows its command: the trust step gave both meshes an intermediate.
    expect(up.stderr).toMatch(/istiod-istio-system-kind2\s+kind2\s+issued/)
    expect(up.stderr).toMatch(/istiod-istio-system-kind3\s+kind3\s+issued/)

    // What it left: every SMH resource ACCEPTED, the failover service's objects in kind2.
    const cli = (args: string[]) => runCli([...args, '--kubeconfig', kubeconfig], {env})
    for (const kind of ['virtualmeshes', 'failoverservices', 'trafficpolicies']) {
      const listed = (JSON.parse((await cli(['get', kind, '-o', 'json'])).stdout) as {items: {metadata: {name: string}; status: {state: string}}[]}).items
        .map((r) => ({name: r.metadata.name, state: r.status.state}))
      expect(listed.length, kind).toBeGreaterThan(0)
      for (const r of listed) expect([kind, r.name, r.state]).toEqual([kind, r.name, 'ACCEPTED'])
    }
    const kubectl = binaryPath('kubectl')
    const envoyFilters = execFileSync(kubectl, ['--kubeconfig', kubeconfig, '--context', 'kind2', 'get', 'envoyfilters', '-A', '-o', 'name'], {encoding: 'utf8'})
    expect(envoyFilters).toContain('reviews-failover')
    expect(execFileSync(kubectl, ['--kubeconfig', kubeconfig, '--context', 'kind3', 'get', 'secret', 'cacerts', '-n', 'istio-system', '-o', 'name'], {encoding: 'utf8'}).trim()).toBe('secret/cacerts')

    // The printed commands are the real ones: typed as printed (after the walkthrough), each changes nothing.
    for (const line of printed.slice(3)) {
      const again = await cli([...line.split(' '), '-o', 'json'])
      expect(again.code, `${line}\n${again.stderr}`).toBe(0)
      const result = JSON.parse(again.stdout) as {applied: {action: string}[]; sync: {clusters: {counts: Record<string, number>}[]}}
      expect(result.applied.map((a) => a.action), line).toEqual(result.applied.map(() => 'unchanged'))
      for (const c of result.sync.clusters) expect({line, ...c.counts}).toMatchObject({line, create: 0, update: 0, prune: 0})
    }
  })

  it('demo down stops exactly those processes and leaves none of ours running', async () => {
    const down = await runCli(['demo', 'down', '-o', 'json'], {env})
    expect(down.code).toBe(0)
    expect(JSON.parse(down.stdout).stopped.map((p: {pid: number}) => p.pid).sort()).toEqual([...pids].sort())
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    expect(existsSync(join(env.KUBECTL_SMH_DEMO_DIR, 'state.json'))).toBe(false)
    const again = await runCli(['demo', 'down'], {env})
    expect(again.code).toBe(0)
    expect(again.stderr).toContain('no demo is running')
  })
})

describe('Ctrl-C during demo up', () => {
  it('exits 130 and leaves no process behind', async () => {
    const {spawn, execFileSync: exec} = await import('node:child_process')
    const {RUN_JS} = await import('../support/cli.js')
    const dir = mkdtempSync(join(tmpdir(), 'smh-int-'))
    const child = spawn(process.execPath, [RUN_JS, 'demo', 'up'], {env: {...process.env, KUBECTL_SMH_DEMO_DIR: dir, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d
        if (stderr.includes('starting kube-apiserver for kind3')) child.kill('SIGINT')
      })
      child.on('close', (c) => resolve(c))
    })
    expect(code).toBe(130)
    // The [k] keeps pgrep from matching its own shell.
    const left = exec('sh', ['-c', `sleep 0.5; pgrep -f "[${dir[0]}]${dir.slice(1)}" || true`], {encoding: 'utf8'}).trim()
    expect(left).toBe('')
  })
})
