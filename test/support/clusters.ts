import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {CoreV1Api} from '@kubernetes/client-node'

import {
  type ClusterRecord, type ControlPlaneState, readState, runningProcesses, startClusterServer, startControlPlanes,
  stopClusterServer,
} from '../../src/controlplane/control-plane.js'
import {forContext, loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {istioCrdsFile, seedBlogClusters} from '../../src/services/demo/index.js'
import {type AuditMark, type AuditWrite, auditMark, describeWrite, readAudit, waitForAuditEvent, type WriteFilter, writesBy} from './audit.js'
import {runCli} from './cli.js'

/** Where each cluster's audit log stood at one moment. */
export type AuditMarks = Record<string, AuditMark>

/** A test file's own seeded clusters: it may write to them and kill their API servers without disturbing others. */
export interface SeededClusters {
  dir: string
  kubeconfig: string
  clusters: string[]
  /** How long starting and seeding took (ms), for the record. */
  startupMs: number
  /** state.json as it is now: a restarted server has a new pid. */
  readonly state: ControlPlaneState
  /** The cluster's audit log (JSON lines); throws when started without audit. */
  auditLog(cluster: string): string
  /** Every cluster's audit position now: pass it to writesSince after the action to count. */
  markAudit(): AuditMarks
  /**
   * Waits until each running server has logged everything it answered so far: a server logs a request as the
   * handler returns, which can be just after the client has its answer. Does so by a read of a unique name
   * and waiting for its event.
   */
  settleAudit(clusters?: string[]): Promise<void>
  /** The write requests (dry runs left out) each cluster logged since marks, once settled. */
  writesSince(marks: AuditMarks, filter?: Omit<WriteFilter, 'since'>): Promise<Record<string, AuditWrite[]>>
  /**
   * What we wrote since the marks, one line per write (`kind2: PATCH ...`): the user's identity (the kubeconfig's
   * admin) and every registered cluster's service account; dry runs left out. The tests' "no change anywhere".
   */
  ourWritesSince(marks: AuditMarks, filter?: {skipReviews?: boolean}): Promise<string[]>
  /** Stops one cluster's API server; SIGKILL simulates a crash. Etcd and the other clusters keep running. */
  stopServer(cluster: string, options?: {signal?: 'SIGTERM' | 'SIGKILL'}): Promise<ClusterRecord | undefined>
  /** Starts it again as it was (same port, certificates, data, kubeconfig) and waits until it is ready. */
  startServer(cluster: string): Promise<ClusterRecord>
  /** Stops every process state.json records and removes the folder. Safe to call twice. */
  stop(): Promise<void>
}

export interface SeededClustersOptions {
  /** Default kind1 (management, empty), kind2 (bookinfo without reviews-v3), kind3, as the global setup. */
  clusters?: string[]
  /** Audit logs on (default true). */
  audit?: boolean
  /** Keep the folder (logs, audit logs) after stop, to read after a failure. */
  keepDir?: boolean
}

/** Our identities in the audit logs: the test kubeconfig's admin and the service accounts `register cluster` made. */
const OUR_IDENTITIES = /^(admin|system:serviceaccount:service-mesh-hub:.+)$/

/** Starts and seeds clusters like the global setup, but for one test file (call in beforeAll, stop in afterAll). */
export async function startSeededClusters(options: SeededClustersOptions = {}): Promise<SeededClusters> {
  const clusters = options.clusters ?? ['kind1', 'kind2', 'kind3']
  const audit = options.audit ?? true
  const dir = mkdtempSync(join(tmpdir(), 'smh-own-'))
  const began = Date.now()
  const plane = await startControlPlanes({clusters, dir, crdsFile: istioCrdsFile(), audit})
  try {
    await seedBlogClusters(plane.state.kubeconfig, clusters)
  } catch (error) {
    await plane.stop()
    throw error
  }
  const startupMs = Date.now() - began
  const kubeconfig = plane.state.kubeconfig
  const kc = loadKubeconfig({kubeconfig})
  let stopped = false

  const currentState = (): ControlPlaneState => readState(dir) ?? plane.state
  const auditLog = (cluster: string): string => {
    const record = currentState().clusters.find((c) => c.name === cluster)
    if (!record) throw new Error(`no cluster "${cluster}" here (known: ${clusters.join(', ')})`)
    if (!record.auditLog) throw new Error(`"${cluster}" has no audit log: start with audit: true`)
    return record.auditLog
  }
  const markAudit = (): AuditMarks => Object.fromEntries(clusters.map((c) => [c, auditMark(auditLog(c))]))
  const settleAudit = async (which = clusters): Promise<void> => {
    const running = new Set(runningProcesses(currentState()).map((p) => p.name))
    await Promise.all(which.filter((c) => running.has(c)).map(async (cluster) => {
      const file = auditLog(cluster)
      const since = auditMark(file)
      const name = `smh-audit-settle-${randomBytes(6).toString('hex')}`
      const core = forContext(kc, cluster).makeApiClient(CoreV1Api)
      await core.readNamespacedConfigMap({name, namespace: 'default'}).catch(() => undefined) // 404 expected
      await waitForAuditEvent(file, (e) => e.objectRef?.name === name, {since})
    }))
  }
  const writesSince = async (marks: AuditMarks, filter: Omit<WriteFilter, 'since'> = {}): Promise<Record<string, AuditWrite[]>> => {
    await settleAudit(Object.keys(marks))
    return Object.fromEntries(Object.entries(marks).map(([c, since]) => [c, writesBy(readAudit(auditLog(c), since), filter)]))
  }

  return {
    dir,
    kubeconfig,
    clusters,
    startupMs,
    get state() {
      return currentState()
    },
    auditLog,
    markAudit,
    settleAudit,
    writesSince,
    async ourWritesSince(marks, filter = {}) {
      const writes = await writesSince(marks, {user: OUR_IDENTITIES, ...filter})
      return Object.entries(writes).flatMap(([cluster, list]) => list.map((w) => `${cluster}: ${describeWrite(w)}`))
    },
    stopServer: (cluster, stopOptions) => stopClusterServer(dir, cluster, stopOptions),
    startServer: (cluster) => startClusterServer(dir, cluster),
    async stop() {
      if (stopped) return
      stopped = true
      await plane.stop()
      if (!options.keepDir) rmSync(dir, {recursive: true, force: true})
    },
  }
}

/**
 * Seeded clusters with Service Mesh Hub installed in kind1 and kind2, kind3 registered, through the CLI as a user
 * would (the starting point of the verbs' and the observing commands' tests).
 */
export async function startRegisteredClusters(options: SeededClustersOptions = {}): Promise<SeededClusters> {
  const env = await startSeededClusters(options)
  const smh = async (args: string[]) => {
    const result = await runCli(args, {env: {KUBECONFIG: env.kubeconfig}})
    if (result.code !== 0) throw new Error(`kubectl smh ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  }
  try {
    await smh(['install'])
    for (const cluster of ['kind2', 'kind3']) await smh(['register', 'cluster', cluster, '--remote-context', cluster])
  } catch (error) {
    await env.stop()
    throw error
  }
  return env
}
