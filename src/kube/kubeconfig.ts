import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'

import {KubeConfig} from '@kubernetes/client-node'

import {UsageError} from '../errors.js'

export interface KubeconfigOptions {
  /** --kubeconfig: one file, used alone (as kubectl does). */
  kubeconfig?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Loads kubeconfig as kubectl does: --kubeconfig alone, else every file of KUBECONFIG, else ~/.kube/config.
 * With several files the first to set a value wins (current-context included) and duplicate names are skipped;
 * client-node would instead let the last file win and throw on duplicates (notes/cli-conventions.md §3).
 */
export function loadKubeconfig(options: KubeconfigOptions = {}): KubeConfig {
  const env = options.env ?? process.env
  const files = options.kubeconfig
    ? [options.kubeconfig]
    : (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '')
  if (files.length === 0) files.push(join(homedir(), '.kube', 'config'))

  const merged = {clusters: [] as KubeConfig['clusters'], users: [] as KubeConfig['users'], contexts: [] as KubeConfig['contexts'], currentContext: ''}
  const present = files.filter((f) => existsSync(f))
  if (options.kubeconfig && present.length === 0) {
    throw new UsageError(`kubeconfig ${options.kubeconfig} does not exist: pass an existing file to --kubeconfig`)
  }
  if (present.length === 0) {
    throw new UsageError(`no kubeconfig found (looked at ${files.join(', ')}): set KUBECONFIG or pass --kubeconfig (kubectl smh demo up makes one)`)
  }
  for (const file of present) {
    const one = new KubeConfig()
    try {
      one.loadFromFile(file) // also makes certificate paths absolute relative to the file
    } catch (error) {
      throw new UsageError(`kubeconfig ${file} cannot be read: ${(error as Error).message}`)
    }
    addMissing(merged.clusters, one.clusters)
    addMissing(merged.users, one.users)
    addMissing(merged.contexts, one.contexts)
    if (!merged.currentContext && one.currentContext) merged.currentContext = one.currentContext
  }
  const kc = new KubeConfig()
  kc.loadFromOptions(merged)
  return kc
}

function addMissing<T extends {name: string}>(into: T[], from: readonly T[]): void {
  for (const item of from) if (!into.some((i) => i.name === item.name)) into.push(item)
}

/** A copy of the kubeconfig pointed at one context: client-node always uses the current context. */
export function forContext(kc: KubeConfig, context: string): KubeConfig {
  const ctx = kc.getContextObject(context)
  if (!ctx) {
    const known = kc.getContexts().map((c) => c.name)
    throw new UsageError(`context "${context}" is not in the kubeconfig (known: ${known.join(', ') || 'none'}): pass one of them`)
  }
  const one = new KubeConfig()
  one.loadFromOptions({clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: context})
  return one
}

/** The management cluster's context: --mgmt-context, else the kubeconfig's current context. */
export function managementContext(kc: KubeConfig, flag?: string): string {
  const name = flag ?? kc.getCurrentContext()
  if (!name) throw new UsageError('no management cluster: the kubeconfig has no current-context; pass --mgmt-context')
  return name
}
