import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/errors.js'
import {forContext, loadKubeconfig, managementContext} from '../../../src/kube/kubeconfig.js'

const dir = mkdtempSync(join(tmpdir(), 'smh-kc-'))

function kubeconfigFile(name: string, current: string, entries: {name: string; server: string; token: string}[]): string {
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': current,
    clusters: entries.map((e) => ({name: e.name, cluster: {server: e.server}})),
    users: entries.map((e) => ({name: e.name, user: {token: e.token}})),
    contexts: entries.map((e) => ({name: e.name, context: {cluster: e.name, user: e.name}})),
  }))
  return file
}

const first = kubeconfigFile('first', 'a', [{name: 'a', server: 'https://127.0.0.1:1001', token: 'ta'}, {name: 'shared', server: 'https://127.0.0.1:2001', token: 'first'}])
const second = kubeconfigFile('second', 'b', [{name: 'b', server: 'https://127.0.0.1:1002', token: 'tb'}, {name: 'shared', server: 'https://127.0.0.1:2002', token: 'second'}])

describe('loadKubeconfig behaves like kubectl', () => {
  it('merges every KUBECONFIG file; the first to set a value wins, current-context included', () => {
    const kc = loadKubeconfig({env: {KUBECONFIG: `${first}:${second}`}})
    expect(kc.getContexts().map((c) => c.name).sort()).toEqual(['a', 'b', 'shared'])
    expect(kc.getCurrentContext()).toBe('a')
    expect(kc.getCluster('shared')?.server).toBe('https://127.0.0.1:2001')
    expect(kc.getUser('shared')?.token).toBe('first')
    const reversed = loadKubeconfig({env: {KUBECONFIG: `${second}:${first}`}})
    expect(reversed.getCurrentContext()).toBe('b')
    expect(reversed.getCluster('shared')?.server).toBe('https://127.0.0.1:2002')
  })

  it('skips KUBECONFIG entries that do not exist, as kubectl does', () => {
    const kc = loadKubeconfig({env: {KUBECONFIG: `${join(dir, 'missing')}:${second}`}})
    expect(kc.getCurrentContext()).toBe('b')
  })

  it('--kubeconfig is used alone, ignoring KUBECONFIG', () => {
    const kc = loadKubeconfig({kubeconfig: second, env: {KUBECONFIG: first}})
    expect(kc.getContexts().map((c) => c.name).sort()).toEqual(['b', 'shared'])
  })

  it('a missing --kubeconfig file is a usage error naming it', () => {
    expect(() => loadKubeconfig({kubeconfig: join(dir, 'nope')})).toThrow(UsageError)
    expect(() => loadKubeconfig({kubeconfig: join(dir, 'nope')})).toThrow(/nope does not exist/)
  })

  it('forContext gives a client config for one context, leaving the original alone', () => {
    const kc = loadKubeconfig({env: {KUBECONFIG: `${first}:${second}`}})
    const b = forContext(kc, 'b')
    expect(b.getCurrentContext()).toBe('b')
    expect(b.getCurrentCluster()?.server).toBe('https://127.0.0.1:1002')
    expect(kc.getCurrentContext()).toBe('a')
    expect(() => forContext(kc, 'zz')).toThrow(/context "zz" is not in the kubeconfig \(known: a, shared, b\)/)
  })

  it('the management context is --mgmt-context, else the current context', () => {
    const kc = loadKubeconfig({env: {KUBECONFIG: first}})
    expect(managementContext(kc)).toBe('a')
    expect(managementContext(kc, 'shared')).toBe('shared')
  })
})
