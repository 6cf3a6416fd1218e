import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {runCli} from '../support/cli.js'

const emptyDemoDir = () => ({KUBECTL_SMH_DEMO_DIR: mkdtempSync(join(tmpdir(), 'smh-cli-'))})

describe('the CLI as a user runs it', () => {
  it('--help lists the topics and commands, spelled the way kubectl runs the plugin', async () => {
    const top = await runCli(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain('$ kubectl smh [COMMAND]')
    expect(top.stdout).toMatch(/^\s+demo\s/m)
    const demo = await runCli(['demo', '--help'])
    for (const cmd of ['demo up', 'demo down', 'demo status']) expect(demo.stdout).toContain(cmd)
  })

  it('runs as a kubectl plugin: `kubectl smh` finds bin/kubectl-smh on PATH', () => {
    const bin = new URL('../../bin', import.meta.url).pathname
    const env = {...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1'}
    const plugins = execFileSync(binaryPath('kubectl'), ['plugin', 'list'], {env, encoding: 'utf8'})
    expect(plugins).toContain(`${bin}/kubectl-smh`)
    const help = execFileSync(binaryPath('kubectl'), ['smh', 'demo', '--help'], {env, encoding: 'utf8'})
    expect(help).toContain('$ kubectl smh demo COMMAND')
  })

  it('an unknown flag exits 2 with one line on stderr and nothing on stdout', async () => {
    const result = await runCli(['demo', 'status', '--no-such-flag'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const lines = result.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('--no-such-flag')
    expect(lines[0]).toContain('kubectl smh demo status --help')
  })

  it('a bad option value exits 2 naming the flag', async () => {
    const result = await runCli(['demo', 'status', '-o', 'xml'])
    expect(result.code).toBe(2)
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/xml/)
  })

  it('a missing required flag says which, on one line, and exits 2', async () => {
    const result = await runCli(['translate'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.trim()).toBe('Error: Missing required flag filename (see: kubectl smh translate --help)')
  })

  it('an unknown command exits 2', async () => {
    const result = await runCli(['no-such-command'])
    expect(result.code).toBe(2)
  })

  it('-o json prints JSON and nothing else on stdout; progress goes to stderr', async () => {
    for (const flag of [['-o', 'json'], ['--json']]) {
      const result = await runCli(['demo', 'status', ...flag], {env: emptyDemoDir()})
      expect(result.code).toBe(0)
      const parsed = JSON.parse(result.stdout)
      expect(parsed.processes).toEqual([])
      expect(result.stderr).toContain('no demo is running')
    }
  })

  it('-o yaml prints YAML', async () => {
    const result = await runCli(['demo', 'status', '-o', 'yaml'], {env: emptyDemoDir()})
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^dir: /m)
    expect(result.stdout).toMatch(/^processes: \[\]$/m)
  })

  it('demo down with nothing running says so and exits 0', async () => {
    const result = await runCli(['demo', 'down'], {env: emptyDemoDir()})
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('no demo is running')
  })

  it('a bad --clusters value is a usage error (exit 2) that starts nothing', async () => {
    const env = emptyDemoDir()
    const result = await runCli(['demo', 'up', '--clusters', 'Kind_1,kind2'], {env})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('"Kind_1" is not a valid cluster name')
    expect((await runCli(['demo', 'status', '-o', 'json'], {env})).stdout).toContain('"processes": []')
  })

  it('a bad --request-timeout is one line and exit 2', async () => {
    const result = await runCli(['demo', 'status', '--request-timeout', 'soon'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe('Error: --request-timeout "soon" is not a duration: use e.g. 30s, 2m or 0')
  })
})
