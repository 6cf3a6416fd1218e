/**
 * Shipping (issue 10): `npm pack` gives a package that, installed with `npm i -g` into an empty prefix, puts
 * kubectl-smh (and kubectl_complete-smh) on PATH; the built kubectl runs it as a plugin and completes through it;
 * `completion bash|zsh` prints scripts a shell accepts. Needs `npm run build`; npm installs the dependencies from its
 * cache when it has them (--prefer-offline), else from the registry.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {runCli} from '../support/cli.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
let dir: string
let prefix: string
let env: NodeJS.ProcessEnv

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smh-pack-'))
  prefix = join(dir, 'prefix')
  execFileSync('npm', ['pack', '--pack-destination', dir], {cwd: ROOT, stdio: 'ignore'})
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!
  execFileSync('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], {cwd: dir, stdio: 'ignore'})
  // Only the prefix and node itself: nothing of the source tree is reachable.
  env = {HOME: dir, PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, NO_COLOR: '1', KUBECONFIG: join(dir, 'none')}
}, 300_000)
afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

describe('npm pack, npm i -g, kubectl smh', () => {
  it('puts kubectl-smh and kubectl_complete-smh on PATH, and kubectl finds the plugin', () => {
    expect(readdirSync(join(prefix, 'bin')).sort()).toEqual(['kubectl-smh', 'kubectl_complete-smh'])
    const plugins = execFileSync(binaryPath('kubectl'), ['plugin', 'list'], {env, encoding: 'utf8', cwd: dir})
    expect(plugins).toContain(join(prefix, 'bin', 'kubectl-smh'))
  })

  it('kubectl smh --help works through kubectl\'s plugin mechanism and lists the observing commands', () => {
    const help = execFileSync(binaryPath('kubectl'), ['smh', '--help'], {env, encoding: 'utf8', cwd: dir})
    expect(help).toContain('$ kubectl smh [COMMAND]')
    for (const command of ['check', 'describe', 'simulate', 'completion']) expect(help).toMatch(new RegExp(`^\\s+${command}\\s`, 'm'))
    const describeHelp = execFileSync(binaryPath('kubectl'), ['smh', 'describe', '--help'], {env, encoding: 'utf8', cwd: dir})
    expect(describeHelp).toContain('$ kubectl smh describe KIND NAME')
  })

  it('kubectl completes kubectl smh through kubectl_complete-smh', () => {
    const out = execFileSync(binaryPath('kubectl'), ['__complete', 'smh', 'desc'], {env, encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'ignore']})
    expect(out.split('\n')).toEqual(expect.arrayContaining(['describe', ':4']))
    const kinds = execFileSync(binaryPath('kubectl'), ['__complete', 'smh', 'describe', ''], {env, encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'ignore']})
    expect(kinds.split('\n')).toEqual(expect.arrayContaining(['service', 'failoverservice', 'virtualmesh', 'cluster', 'trafficpolicy']))
  })
})

describe('completion scripts', () => {
  it('bash: the shell accepts it, and its function completes flags of a command', async () => {
    const script = await runCli(['completion', 'bash'])
    expect(script.code).toBe(0)
    const bin = new URL('../../bin', import.meta.url).pathname
    // Put the built CLI on PATH as kubectl-smh, load the script, complete `kubectl-smh simulate x --f`.
    const out = execFileSync('bash', ['-c', `${script.stdout}\nCOMP_WORDS=(kubectl-smh simulate x --f); COMP_CWORD=3; _kubectl_smh; printf '%s\\n' "\${COMPREPLY[@]}"`],
      {env: {...process.env, PATH: `${bin}:${process.env.PATH}`, KUBECONFIG: '/nonexistent'}, encoding: 'utf8'})
    expect(out.trim().split('\n')).toEqual(['--fail', '--from'])
  })

  it('zsh: a compdef script; an unknown shell exits 2', async () => {
    const zsh = await runCli(['completion', 'zsh'])
    expect(zsh.stdout.split('\n')[0]).toBe('#compdef kubectl-smh')
    const bad = await runCli(['completion', 'fish'])
    expect(bad.code).toBe(2)
  })
})
