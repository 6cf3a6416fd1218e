import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {request as httpRequest} from 'node:http'
import {join} from 'node:path'

import {SmhError} from '../errors.js'
import {requireBinary} from './binaries.js'
import {installCrds} from './crds.js'
import {freePort, isAlive, killProcess, logTail, type Started, sleep, startProcess, stopProcess} from './processes.js'

export interface ControlPlaneOptions {
  /** Cluster names; each becomes a kubeconfig context of the same name. The first is the current context. */
  clusters: string[]
  /** Working folder: etcd data, certificates, logs, the kubeconfig and state.json. */
  dir: string
  /** Processes outlive this one (demo up) instead of being stopped when it exits (tests). */
  detached?: boolean
  /** Istio's CRDs to install in every cluster (a multi-document YAML file). */
  crdsFile?: string
  /** How long to wait for each process to become ready. */
  readyTimeoutMs?: number
  /**
   * Every API server writes an audit log, one JSON event per request at level Metadata, to
   * <dir>/logs/<cluster>-audit.log (recorded as `auditLog`): tests count the writes a command made.
   */
  audit?: boolean
  onProgress?: (message: string) => void
}

export interface ProcessRecord {
  name: string
  pid: number
  port: number
  logFile: string
  binary: string
  /** The arguments it was started with: startClusterServer starts an API server again with exactly these. */
  args: string[]
}

export interface ClusterRecord extends ProcessRecord {
  server: string
  /** The API server's audit log (JSON lines), when started with `audit`. */
  auditLog?: string
}

/**
 * What was started: enough for `demo down` to stop exactly these processes, `demo status` to report them and
 * startClusterServer to start a stopped API server again. Kept current in <dir>/state.json.
 */
export interface ControlPlaneState {
  dir: string
  kubeconfig: string
  startedAt: string
  /** Whether the processes outlive the one that started them (demo up); a restarted server is started alike. */
  detached: boolean
  etcd: ProcessRecord
  clusters: ClusterRecord[]
}

export interface ControlPlane {
  state: ControlPlaneState
  /** Stops what state.json records now (servers restarted since included) and anything else this start began. */
  stop(): Promise<void>
}

const STATE_FILE = 'state.json'
const AUDIT_POLICY_FILE = 'audit-policy.yaml'

/**
 * Metadata (who, verb, object, response code; no bodies) for every request, reads included, so nothing a client
 * sends goes unseen. Only the ResponseComplete stage (and ResponseStarted for watches): one line per request.
 */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

/**
 * Starts one etcd and one kube-apiserver per cluster (each with its own --etcd-prefix, port and cert dir; RBAC on;
 * TokenRequest working; an admin token in system:masters), writes a kubeconfig whose contexts are the cluster
 * names, installs Istio's CRDs and waits until everything is ready. On any failure it stops what it started and
 * the error carries the tail of the failing process's log.
 */
export async function startControlPlanes(options: ControlPlaneOptions): Promise<ControlPlane> {
  const {clusters, dir} = options
  const detached = options.detached ?? false
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000
  const progress = options.onProgress ?? (() => {})
  const etcdBinary = requireBinary('etcd')
  const apiserverBinary = requireBinary('kube-apiserver')
  mkdirSync(join(dir, 'logs'), {recursive: true})

  // Attached processes are also killed when this process exits (startProcess sees to that).
  const started: Started[] = []
  const stillRunning = () => started.filter((s) => s.child.exitCode === null && s.child.signalCode === null)
  // Ctrl-C while starting: even detached processes must not be left behind half-started, unrecorded.
  const onInterrupt = () => {
    for (const s of stillRunning()) {
      try {
        process.kill(s.pid, 'SIGKILL')
      } catch {}
    }
    process.exit(130)
  }
  process.once('SIGINT', onInterrupt)
  let stateWritten = false
  const stopAll = async () => {
    // Re-read: a server restarted since (startClusterServer) runs under a pid only state.json knows.
    const recorded = stateWritten ? readState(dir) : undefined
    if (recorded) await stopRecorded(recorded)
    await Promise.all(stillRunning().map((s) => stopProcess(s.pid)))
  }

  try {
    // etcd: one for all clusters, on tmpfs-like settings (no fsync) since the data is throwaway.
    const [clientPort, peerPort] = [await freePort(), await freePort()]
    const etcdLog = join(dir, 'logs', 'etcd.log')
    progress(`starting etcd on 127.0.0.1:${clientPort}`)
    const etcdArgs = [
      '--name=smh', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${clientPort}`, `--advertise-client-urls=http://127.0.0.1:${clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=smh=http://127.0.0.1:${peerPort}`, '--initial-cluster-state=new',
      '--unsafe-no-fsync=true', '--log-level=warn', '--quota-backend-bytes=4294967296',
    ]
    const etcd = startProcess('etcd', etcdBinary, etcdArgs, etcdLog, detached)
    started.push(etcd)
    await waitUntil(`etcd`, etcd, readyTimeoutMs, () => httpOk(`http://127.0.0.1:${clientPort}/health`))

    // Shared identity material: the admin token and the service-account signing key.
    const token = randomBytes(24).toString('hex')
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`, {mode: 0o600})
    const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
    writeFileSync(join(dir, 'sa.key'), privateKey.export({type: 'pkcs8', format: 'pem'}), {mode: 0o600})
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({type: 'spki', format: 'pem'}))

    if (options.audit) writeFileSync(join(dir, AUDIT_POLICY_FILE), AUDIT_POLICY)

    const servers: (Started & {port: number; certDir: string; args: string[]; auditLog?: string})[] = []
    for (const [index, cluster] of clusters.entries()) {
      const port = await freePort()
      const certDir = join(dir, 'clusters', cluster)
      mkdirSync(certDir, {recursive: true})
      const auditLog = options.audit ? join(dir, 'logs', `${cluster}-audit.log`) : undefined
      progress(`starting kube-apiserver for ${cluster} on https://127.0.0.1:${port}`)
      const args = [
        `--etcd-servers=http://127.0.0.1:${clientPort}`, `--etcd-prefix=/${cluster}/registry`,
        // Every server compacts the whole shared keyspace: let only the first do it.
        `--etcd-compaction-interval=${index === 0 ? '5m' : '0'}`,
        `--cert-dir=${certDir}`, `--secure-port=${port}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
        // The default reconciler refuses a loopback address for the kubernetes Service's endpoints.
        '--endpoint-reconciler-type=none',
        '--service-cluster-ip-range=10.96.0.0/16', '--allow-privileged=true',
        // No controller-manager runs, so no "default" ServiceAccount would ever appear for pods to use.
        '--disable-admission-plugins=ServiceAccount',
        '--authorization-mode=RBAC', `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-account-issuer=https://${cluster}.kubectl-smh.local`, '--api-audiences=https://kubernetes.default.svc',
        `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--enable-priority-and-fairness=false', '--profiling=false', '--enable-garbage-collector=false',
        ...(auditLog ? [
          `--audit-policy-file=${join(dir, AUDIT_POLICY_FILE)}`, `--audit-log-path=${auditLog}`,
          // Written synchronously as each request ends; maxsize 0: a plain file opened for appending, never rotated.
          '--audit-log-format=json', '--audit-log-mode=blocking', '--audit-log-maxsize=0',
        ] : []),
      ]
      const server = startProcess(cluster, apiserverBinary, args, join(dir, 'logs', `${cluster}.log`), detached)
      started.push(server)
      servers.push({...server, port, certDir, args, auditLog})
    }

    const kubeconfigPath = join(dir, 'kubeconfig')
    await Promise.all(servers.map(async (s) => {
      const caFile = join(s.certDir, 'apiserver.crt')
      await waitUntil(`kube-apiserver ${s.name}`, s, readyTimeoutMs, async () => {
        if (!existsSync(caFile)) return false
        return httpsOk(`https://127.0.0.1:${s.port}/readyz`, readFileSync(caFile), token)
      })
    }))
    writeFileSync(kubeconfigPath, kubeconfigYaml(servers.map((s) => ({
      name: s.name, server: `https://127.0.0.1:${s.port}`, ca: readFileSync(join(s.certDir, 'apiserver.crt')),
    })), token), {mode: 0o600})

    if (options.crdsFile) {
      progress(`installing Istio's CRDs in ${clusters.join(', ')}`)
      await installCrds(kubeconfigPath, clusters, options.crdsFile)
    }

    const record = (s: Started, port: number, binary: string, args: string[]): ProcessRecord => ({name: s.name, pid: s.pid, port, logFile: s.logFile, binary, args})
    const state: ControlPlaneState = {
      dir,
      kubeconfig: kubeconfigPath,
      startedAt: new Date().toISOString(),
      detached,
      etcd: record(etcd, clientPort, etcdBinary, etcdArgs),
      clusters: servers.map((s) => ({
        ...record(s, s.port, apiserverBinary, s.args),
        server: `https://127.0.0.1:${s.port}`,
        ...(s.auditLog ? {auditLog: s.auditLog} : {}),
      })),
    }
    writeState(state)
    stateWritten = true
    return {state, stop: stopAll}
  } catch (error) {
    await stopAll()
    throw error
  } finally {
    process.off('SIGINT', onInterrupt)
  }
}

/** Reads what a detached start recorded, or undefined when nothing is recorded in dir. */
export function readState(dir: string): ControlPlaneState | undefined {
  const file = join(dir, STATE_FILE)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneState
}

function writeState(state: ControlPlaneState): void {
  // Through a rename, so a reader (demo status, a test's teardown) never sees half a file.
  const file = join(state.dir, STATE_FILE)
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${file}.tmp`, file)
}

function recordedCluster(dir: string, name: string): {state: ControlPlaneState; cluster: ClusterRecord} {
  const state = readState(dir)
  if (!state) throw new SmhError(`no control planes are recorded in ${dir} (no ${STATE_FILE})`)
  const cluster = state.clusters.find((c) => c.name === name)
  if (!cluster) throw new SmhError(`no cluster "${name}" is recorded in ${join(dir, STATE_FILE)} (known: ${state.clusters.map((c) => c.name).join(', ')})`)
  return {state, cluster}
}

function runsAsRecorded(p: ProcessRecord): boolean {
  return isAlive(p.pid) && commandOf(p.pid).startsWith(p.binary)
}

/**
 * Stops one cluster's kube-apiserver and leaves etcd and the other clusters running. SIGKILL simulates a crash
 * (no graceful shutdown); SIGTERM (the default) shuts down gracefully, killing after a grace period. The record
 * keeps its pid and arguments, so startClusterServer can start it again. Returns the stopped record, or
 * undefined when it was not running.
 */
export async function stopClusterServer(
  where: string | ControlPlaneState, name: string, options: {signal?: 'SIGTERM' | 'SIGKILL'} = {},
): Promise<ClusterRecord | undefined> {
  const {cluster} = recordedCluster(typeof where === 'string' ? where : where.dir, name)
  if (!runsAsRecorded(cluster)) return undefined
  await killProcess(cluster.pid, options.signal ?? 'SIGTERM')
  return cluster
}

/**
 * Starts a stopped cluster's kube-apiserver again with exactly its recorded binary and arguments: the same
 * port, certificate folder (its serving certificate is reused, so the kubeconfig stays valid), etcd prefix and
 * audit log (appended to). Waits until /readyz answers, then records the new pid in state.json. The log and
 * the error when it dies are as for startControlPlanes.
 */
export async function startClusterServer(dir: string, name: string, options: {readyTimeoutMs?: number} = {}): Promise<ClusterRecord> {
  const {state, cluster} = recordedCluster(dir, name)
  if (runsAsRecorded(cluster)) throw new SmhError(`kube-apiserver for "${name}" already runs (pid ${cluster.pid}): stop it first`)
  if (!cluster.args?.length) throw new SmhError(`"${name}" was recorded without its arguments (an older state.json): start the control planes afresh`)
  if (!existsSync(cluster.binary)) throw new SmhError(`kube-apiserver not found at ${cluster.binary}, which "${name}" was started with`)
  const {ca, token} = kubeconfigCredentials(state.kubeconfig, name)
  const server = startProcess(name, cluster.binary, cluster.args, cluster.logFile, state.detached)
  try {
    await waitUntil(`kube-apiserver ${name}`, server, options.readyTimeoutMs ?? 90_000, () => httpsOk(`${cluster.server}/readyz`, ca, token))
  } catch (error) {
    await stopProcess(server.pid)
    throw error
  }
  // Re-read just before writing: another cluster may have been restarted meanwhile.
  const now = readState(dir) ?? state
  const restarted: ClusterRecord = {...cluster, pid: server.pid}
  writeState({...now, clusters: now.clusters.map((c) => (c.name === name ? restarted : c))})
  return restarted
}

/** The CA and token the kubeconfig (ours, written as JSON) holds for a cluster. */
function kubeconfigCredentials(kubeconfig: string, cluster: string): {ca: Buffer; token: string} {
  const config = JSON.parse(readFileSync(kubeconfig, 'utf8')) as {
    clusters: {name: string; cluster: {'certificate-authority-data': string}}[]
    users: {name: string; user: {token: string}}[]
  }
  const caData = config.clusters.find((c) => c.name === cluster)?.cluster['certificate-authority-data']
  const token = config.users.find((u) => u.name === `${cluster}-admin`)?.user.token
  if (!caData || !token) throw new SmhError(`${kubeconfig} has no CA or token for "${cluster}"`)
  return {ca: Buffer.from(caData, 'base64'), token}
}

/** The recorded processes that still run as the binary recorded for them (a pid may have been reused). */
export function runningProcesses(state: ControlPlaneState): ProcessRecord[] {
  return [state.etcd, ...state.clusters].filter(runsAsRecorded)
}

/** Stops exactly the recorded processes (API servers first, then etcd). */
export async function stopRecorded(state: ControlPlaneState): Promise<ProcessRecord[]> {
  const running = runningProcesses(state)
  const servers = running.filter((p) => p !== state.etcd && p.name !== 'etcd')
  await Promise.all(servers.map((p) => stopProcess(p.pid)))
  await Promise.all(running.filter((p) => p.name === 'etcd').map((p) => stopProcess(p.pid)))
  return running
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''
  } catch {
    return ''
  }
}

async function waitUntil(what: string, proc: Started, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  let exited: number | null | undefined
  proc.child.once('exit', (code) => (exited = code))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new SmhError(`${what} exited (code ${exited}) before it was ready; the end of ${proc.logFile}:\n${logTail(proc.logFile)}`)
    }
    if (await ready().catch(() => false)) return
    await sleep(100)
  }
  throw new SmhError(`${what} was not ready after ${timeoutMs / 1000}s; the end of ${proc.logFile}:\n${logTail(proc.logFile)}`)
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {timeout: 2000}, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

function httpsOk(url: string, ca: Buffer, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, {ca, headers: {authorization: `Bearer ${token}`}, timeout: 2000}, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

function kubeconfigYaml(clusters: {name: string; server: string; ca: Buffer}[], token: string): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map((c) => ({name: c.name, cluster: {server: c.server, 'certificate-authority-data': c.ca.toString('base64')}})),
    users: clusters.map((c) => ({name: `${c.name}-admin`, user: {token}})),
    contexts: clusters.map((c) => ({name: c.name, context: {cluster: c.name, user: `${c.name}-admin`}})),
    'current-context': clusters[0]?.name ?? '',
  }
  return JSON.stringify(config, null, 2) // JSON is YAML: kubectl and client-node read it as a kubeconfig
}
