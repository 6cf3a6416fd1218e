/**
 * Shipping (issue 10): `npm pack` gives a package that, installed with `npm i -g` into an empty prefix, puts
 * kubectl-smh (and kubectl_complete-smh) on PATH; the built kubectl runs it as a plugin and completes through it;
 * `completion bash|zsh` prints scripts a shell accepts. Needs `npm run build`; npm installs the dependencies from its
 * cache when it has them (--prefer-offline), else from the registry.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

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
}, 120_000)

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

describe('krew', () => {
  it('plugins/build-krew.mjs: an archive with its own node that kubectl runs as the plugin, and a manifest with its sha256', () => {
    const out = join(dir, 'krew')
    execFileSync(process.execPath, [join(ROOT, 'plugins', 'build-krew.mjs'), '--out', out], {cwd: ROOT, stdio: 'ignore'})
    const manifest = parse(readFileSync(join(out, 'smh.yaml'), 'utf8'))
    expect(manifest).toMatchObject({apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: {name: 'smh'}, spec: {version: 'v0.1.0'}})
    const [platform] = manifest.spec.platforms
    expect(platform).toMatchObject({selector: {matchLabels: {os: 'linux', arch: 'amd64'}}, bin: 'kubectl-smh'})
    const archive = join(out, 'kubectl-smh-linux-amd64.tar.gz')
    expect(platform.sha256).toBe(createHash('sha256').update(readFileSync(archive)).digest('hex'))
    // What krew does: unpack, link the bin onto PATH.
    const installed = join(dir, 'krew-store')
    mkdirSync(installed)
    execFileSync('tar', ['-xzf', archive, '-C', installed])
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(['kubectl-smh', 'kubectl_complete-smh', 'lib', 'node']))
    const help = execFileSync(binaryPath('kubectl'), ['smh', '--help'], {env: {...env, PATH: `${installed}:/usr/bin:/bin`}, encoding: 'utf8', cwd: dir})
    expect(help).toContain('$ kubectl smh [COMMAND]')
  }, 300_000)
})
