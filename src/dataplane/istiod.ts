/**
 * A stand-in for each workload cluster's istiod (issue 9): Istio's own xDS generator (the oracle binary of
 * test/oracle, built by `test/env/build-tools.sh oracle`) run once per proxy on that cluster's current objects, read
 * with the admin kubeconfig as the oracle's snapshots are (Services, Pods, EndpointSlices, Nodes, Namespaces, the
 * mesh config, every Istio object; ours passed as `--config`), with the env of that cluster's istiod (its `PILOT_*`
 * flags, e.g. PILOT_SKIP_VALIDATE_TRUST_DOMAIN, which Istio reads from the environment) and its mesh config
 * (trustDomain, trustDomainAliases, from the `istio` ConfigMap the oracle reads). The output is turned into Envoy's
 * file-based xDS (fileXds) with the pod's certificate files as its `default`/`ROOTCA` secrets, and moved into the
 * pod's config folder file by file (writeXdsFiles: renames, unchanged files left alone), which the running Envoy
 * watches. A loop (`runIstiodLoop`, a background process of `demo up --dataplane`) lists the objects every ~2 s and
 * regenerates a cluster's proxies when a resourceVersion changed, so a `kubectl smh sync` reaches the Envoys without
 * a restart, as istiod's pushes would. Imported only by the demo service and tests.
 */
import {execFile, execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import type {KubeConfig} from '@kubernetes/client-node'

import {isAlive, sleep, startProcess, stopProcess} from '../controlplane/processes.js'
import {SmhError} from '../errors.js'
import {ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {loadKubeconfig} from '../kube/kubeconfig.js'
import {listAll} from '../kube/list.js'
import {CERT_FILES} from './certs.js'
import {type ProxyXds, fileXds} from './envoy-config.js'
import {writeXdsFiles} from './envoy.js'

const ISTIO_NAMESPACE = 'istio-system'
const MANAGED_BY = 'app.kubernetes.io/managed-by'

/** What istiod's registry and config store read: the oracle's snapshot kinds, and every Istio config kind. */
const KINDS: {apiVersion: string; kind: string}[] = [
  {apiVersion: 'v1', kind: 'Namespace'},
  {apiVersion: 'v1', kind: 'Node'},
  {apiVersion: 'v1', kind: 'Pod'},
  {apiVersion: 'v1', kind: 'Service'},
  {apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice'},
  {apiVersion: 'networking.istio.io/v1', kind: 'VirtualService'},
  {apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule'},
  {apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry'},
  {apiVersion: 'networking.istio.io/v1', kind: 'Gateway'},
  {apiVersion: 'networking.istio.io/v1', kind: 'Sidecar'},
  {apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry'},
  {apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup'},
  {apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter'},
  {apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication'},
  {apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy'},
  {apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication'},
]

export type Obj = {apiVersion: string; kind: string; metadata: {name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; managedFields?: any}; spec?: any}

/** One cluster's inputs to its istiod: the snapshot, our objects, istiod's env, and a fingerprint of it all. */
export interface ClusterInputs {
  cluster: string
  snapshot: Obj[]
  ours: Obj[]
  /** istiod's `PILOT_*` env (plain values of its discovery container). */
  env: Record<string, string>
  /** Every object's kind/ns/name@resourceVersion: changes when anything istiod reads changes. */
  fingerprint: string
}

/** Reads one cluster's objects as the oracle's snapshots hold them (a kind the cluster lacks is simply absent). */
export async function readClusterInputs(kc: KubeConfig, cluster: string): Promise<ClusterInputs> {
  const client = ClusterClient.forContext(kc, cluster)
  const lists = await Promise.all(KINDS.map((k) => listAll<Obj>(client, k.apiVersion, k.kind).catch((e: unknown) => {
    if (isNotFound(e)) return [] as Obj[]
    throw e
  })))
  const istio = await client.readIfExists({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: ISTIO_NAMESPACE}}) as Obj | undefined
  const istiod = await client.readIfExists({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'istiod', namespace: ISTIO_NAMESPACE}}) as Obj | undefined
  return clusterInputsOf(cluster, lists.flat(), istio, istiod)
}

/**
 * One cluster's inputs from what was read (pure): the objects and the `istio` mesh ConfigMap form the snapshot
 * (managedFields dropped), ours are the Istio objects labelled managed-by kubectl-smh, the env is istiod's, and the
 * fingerprint names every object at its resourceVersion plus istiod's Deployment (its env may change).
 */
export function clusterInputsOf(cluster: string, listed: Obj[], istio: Obj | undefined, istiod: Obj | undefined): ClusterInputs {
  const objects = [...listed]
  if (istio) objects.push({...istio, apiVersion: 'v1', kind: 'ConfigMap'})
  const env = pilotEnv(istiod)
  for (const o of objects) delete o.metadata.managedFields
  const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion ?? ''}`
  const fingerprint = [...objects.map(key), `istiod@${istiod?.metadata.resourceVersion ?? ''}`].sort().join('\n')
  const isOurs = (o: Obj) => o.apiVersion.includes('istio.io/') && o.metadata.labels?.[MANAGED_BY] === 'kubectl-smh'
  return {cluster, snapshot: objects, ours: objects.filter(isOurs), env, fingerprint}
}

/** istiod's `PILOT_*` flags: plain `value`s of its `discovery` container (else its first); `valueFrom` is not read. */
export function pilotEnv(istiod: Obj | undefined): Record<string, string> {
  const env: Record<string, string> = {}
  const pilot = (istiod?.spec?.template?.spec?.containers ?? []).find((c: any) => c.name === 'discovery') ?? istiod?.spec?.template?.spec?.containers?.[0]
  for (const e of pilot?.env ?? []) if (typeof e?.name === 'string' && e.name.startsWith('PILOT_') && typeof e.value === 'string') env[e.name] = e.value
  return env
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The oracle binary: KUBECTL_SMH_ORACLE, else where test/env/build-tools.sh keeps it (built there if missing). */
export function oraclePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KUBECTL_SMH_ORACLE) return env.KUBECTL_SMH_ORACLE
  const tools = join(root, 'test/env/build-tools.sh')
  if (!existsSync(tools)) throw new SmhError(`the istiod stand-in needs the xDS oracle (test/oracle): set KUBECTL_SMH_ORACLE to its binary`)
  const path = execFileSync('bash', [tools, 'oracle-path'], {encoding: 'utf8'}).trim()
  if (!existsSync(path)) execFileSync('bash', [tools, 'oracle'], {stdio: ['ignore', 'ignore', 'inherit']})
  return path
}

export interface GeneratedProxy extends ProxyXds {
  /** What Istio rejected or ignored (istiod would push the rest, so the rest is used). */
  errors: string[]
}

/** Istio's generator for one proxy (NAMESPACE/POD) of a cluster, on the inputs given, with istiod's env. */
export async function generate(inputs: ClusterInputs, proxy: string, workDir: string, oracle = oraclePath()): Promise<GeneratedProxy> {
  const snapshot = join(workDir, `${inputs.cluster}-snapshot.json`)
  const config = join(workDir, `${inputs.cluster}-config.json`)
  if (!existsSync(snapshot)) writeFileSync(snapshot, JSON.stringify({apiVersion: 'v1', kind: 'List', items: inputs.snapshot}))
  if (!existsSync(config)) writeFileSync(config, JSON.stringify({apiVersion: 'v1', kind: 'List', items: inputs.ours}))
  const {args, env} = oracleInvocation(inputs, proxy, snapshot, config)
  const {code, stdout, stderr} = await new Promise<{code: number; stdout: string; stderr: string}>((resolve, reject) => {
    execFile(oracle, args, {maxBuffer: 256 * 1024 * 1024, env}, (err, out, errOut) => {
      if (err && typeof err.code !== 'number') reject(err)
      else resolve({code: err ? (err.code as number) : 0, stdout: out, stderr: errOut})
    })
  })
  return parseOracleOutput(inputs.cluster, proxy, code, stdout, stderr)
}

/** The oracle's command line for one proxy and its environment: ours, with istiod's `PILOT_*` flags over it. */
export function oracleInvocation(inputs: Pick<ClusterInputs, 'cluster' | 'env'>, proxy: string, snapshot: string, config: string, baseEnv: NodeJS.ProcessEnv = process.env): {args: string[]; env: NodeJS.ProcessEnv} {
  return {args: ['--cluster', inputs.cluster, '--proxy', proxy, '--snapshot', snapshot, '--config', config, '--no-analyze'], env: {...baseEnv, ...inputs.env}}
}

/**
 * The oracle's answer: exit 2 or no output is a failure (the last lines of its stderr say why); otherwise its JSON,
 * with what Istio rejected or ignored in `errors` (exit 1: istiod would still push the rest, so the rest is used).
 */
export function parseOracleOutput(cluster: string, proxy: string, code: number, stdout: string, stderr: string): GeneratedProxy {
  if (code === 2 || !stdout.trim()) throw new SmhError(`Istio's generator failed for ${cluster} ${proxy} (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`)
  const r = JSON.parse(stdout) as GeneratedProxy
  return {proxy: r.proxy, clusters: r.clusters ?? [], listeners: r.listeners ?? [], routes: r.routes ?? [], endpoints: r.endpoints ?? [], errors: r.errors ?? []}
}

/** The pod a config is written for: where its config and certificates are. */
export interface ProxyTarget {
  cluster: string
  namespace: string
  name: string
  configDir: string
  certDir: string
}

/** Generates and writes one proxy's file-based xDS; returns the files that changed. */
export async function pushProxy(inputs: ClusterInputs, pod: ProxyTarget, workDir: string, oracle?: string): Promise<{written: string[]; errors: string[]}> {
  const xds = await generate(inputs, `${pod.namespace}/${pod.name}`, workDir, oracle)
  const certs = versionedCerts(pod.certDir)
  const cert = (f: string) => join(certs, f)
  const out = fileXds(xds, pod.configDir, {secrets: {default: {certificateChain: cert(CERT_FILES.chain), privateKey: cert(CERT_FILES.key)}, ROOTCA: {trustedCa: cert(CERT_FILES.root)}}})
  const written = writeXdsFiles(out.files)
  pruneVersionedCerts(pod.certDir, certs)
  return {written, errors: xds.errors}
}

/**
 * The pod's certificates as Envoy's secrets read them: a copy under `<certDir>/v-<hash of the files>/`, so a renewal
 * changes the SDS resources themselves (their file names). Envoy's watched_directory reload alone left the old
 * root in contexts built before a renewal (after the virtual mesh's root replaced the self-signed one, kind2's
 * reviews kept refusing productpage: ssl.fail_verify_error), and an SDS update whose resources are unchanged
 * rebuilds nothing.
 */
export function versionedCerts(certDir: string): string {
  const texts = Object.values(CERT_FILES).map((f) => readFileSync(join(certDir, f)))
  const dir = join(certDir, certVersionName(texts))
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp`
    rmSync(tmp, {recursive: true, force: true})
    mkdirSync(tmp, {mode: 0o700})
    Object.values(CERT_FILES).forEach((f, i) => writeFileSync(join(tmp, f), texts[i], {mode: f === CERT_FILES.key ? 0o600 : 0o644}))
    renameSync(tmp, dir)
  }
  return dir
}

/** The versioned copy's folder name: `v-` and 12 hex digits of the SHA-256 of the files (chain, key, root, in that order). */
export function certVersionName(texts: Buffer[]): string {
  return `v-${createHash('sha256').update(Buffer.concat(texts)).digest('hex').slice(0, 12)}`
}

/** Keeps the current copy and the one before (an Envoy may still be loading it). */
export function pruneVersionedCerts(certDir: string, current: string): void {
  const copies = readdirSync(certDir).filter((n) => n.startsWith('v-')).map((n) => ({path: join(certDir, n), at: statSync(join(certDir, n)).mtimeMs}))
  for (const path of certCopiesToPrune(copies, current)) rmSync(path, {recursive: true, force: true})
}

/** Of the versioned copies (path, mtime), those to remove: all but the current one and the newest other. */
export function certCopiesToPrune(copies: {path: string; at: number}[], current: string): string[] {
  return copies.filter((c) => c.path !== current).sort((a, b) => b.at - a.at).slice(1).map((c) => c.path)
}

/** Per-cluster inputs read once and shared by the proxies of a first generation (demo up's config provider). */
export class IstiodStandIn {
  private readonly inputs = new Map<string, Promise<ClusterInputs>>()
  readonly workDir = mkdtempSync(join(tmpdir(), 'smh-istiod-'))
  constructor(private readonly kc: KubeConfig, private readonly oracle = oraclePath()) {}

  async push(pod: ProxyTarget): Promise<{written: string[]; errors: string[]}> {
    if (!this.inputs.has(pod.cluster)) this.inputs.set(pod.cluster, readClusterInputs(this.kc, pod.cluster))
    return pushProxy(await this.inputs.get(pod.cluster)!, pod, this.workDir, this.oracle)
  }

  close(): void {
    rmSync(this.workDir, {recursive: true, force: true})
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The loop, as a background process of the demo's data plane.

export const ISTIOD_STATUS = 'istiod.json'

/** What the loop reports in <dir>/istiod.json: per cluster, the last generation. */
export interface IstiodStatus {
  pid: number
  updatedAt: string
  /** When the round that wrote this status began: it read every cluster's objects after that moment. */
  roundStartedAt?: string
  clusters: Record<string, {generation: number; at: string; proxies: number; written: number; ms: number; errors: string[]; failed?: string}>
}

export function readIstiodStatus(dir: string): IstiodStatus | undefined {
  const file = join(dir, ISTIOD_STATUS)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as IstiodStatus
  } catch {
    return undefined
  }
}

interface LoopState {
  kubeconfig: string
  clusters: string[]
  pods: (ProxyTarget & {kind: string})[]
  cas: Record<string, {fingerprint: string}>
}

/**
 * Every `intervalMs`: lists each cluster's objects; where anything changed since the last generation (and on the
 * first round), regenerates every proxy of that cluster and writes the changed files. Also renews workload
 * certificates when a cluster's CA changed (a virtual mesh wrote `cacerts`), as istiod's CA would sign new ones.
 */
export async function runIstiodLoop(dir: string, options: {intervalMs?: number; log?: (line: string) => void} = {}): Promise<never> {
  const log = options.log ?? ((l: string) => process.stdout.write(`${new Date().toISOString()} ${l}\n`))
  const {readDataPlaneState, renewWorkloadCerts} = await import('./index.js')
  const oracle = oraclePath()
  const seen = new Map<string, string>()
  const status: IstiodStatus = {pid: process.pid, updatedAt: new Date().toISOString(), clusters: {}}
  const writeStatus = () => {
    status.updatedAt = new Date().toISOString()
    writeFileSync(join(dir, `.${ISTIOD_STATUS}.tmp`), JSON.stringify(status, null, 2))
    renameSync(join(dir, `.${ISTIOD_STATUS}.tmp`), join(dir, ISTIOD_STATUS))
  }
  for (;;) {
    const roundStartedAt = new Date().toISOString()
    const state = readDataPlaneState(dir) as LoopState | undefined
    if (!state) {
      log(`no data plane in ${dir}: stopping`)
      process.exit(0)
    }
    const kc = loadKubeconfig({kubeconfig: state.kubeconfig})
    try {
      const renewed = await renewWorkloadCerts(dir)
      if (renewed.length) log(`workload certificates renewed for ${renewed.join(', ')} (their CA changed)`)
    } catch (e) {
      log(`renewing certificates failed: ${(e as Error).message}`)
    }
    for (const cluster of state.clusters) {
      const started = Date.now()
      try {
        const inputs = await readClusterInputs(kc, cluster)
        // The workload certificates too: renewed ones (here or by `demo traffic`) are pushed as SDS updates.
        const fingerprint = generationKey(inputs.fingerprint, (readDataPlaneState(dir) as LoopState | undefined)?.cas?.[cluster]?.fingerprint)
        if (seen.get(cluster) === fingerprint) continue
        const work = mkdtempSync(join(tmpdir(), 'smh-istiod-'))
        try {
          let written = 0
          const errors = new Set<string>()
          const pods = proxiesOf(state.pods, cluster)
          for (const pod of pods) {
            const r = await pushProxy(inputs, pod, work, oracle)
            written += r.written.length
            for (const e of r.errors) errors.add(e)
          }
          seen.set(cluster, fingerprint)
          const prev = status.clusters[cluster]?.generation ?? 0
          status.clusters[cluster] = {generation: prev + 1, at: new Date().toISOString(), proxies: pods.length, written, ms: Date.now() - started, errors: [...errors]}
          log(`${cluster}: generation ${prev + 1}: ${pods.length} proxies, ${written} files changed, ${Date.now() - started} ms${errors.size ? `; Istio ignored: ${[...errors].join('; ')}` : ''}`)
        } finally {
          rmSync(work, {recursive: true, force: true})
        }
      } catch (e) {
        const failed = (e as Error).message
        status.clusters[cluster] = {...(status.clusters[cluster] ?? {generation: 0, at: '', proxies: 0, written: 0, ms: 0, errors: []}), failed}
        log(`${cluster}: ${failed}`)
      }
    }
    status.roundStartedAt = roundStartedAt
    writeStatus()
    await sleep(options.intervalMs ?? 2000)
  }
}

/**
 * What decides whether the loop regenerates a cluster: its inputs' fingerprint (every object it reads at its
 * resourceVersion, istiod's Deployment) and the fingerprint of the CA its workload certificates are issued under.
 * Any change in either regenerates every proxy of that cluster (and only of that cluster).
 */
export function generationKey(inputsFingerprint: string, caFingerprint: string | undefined): string {
  return `${inputsFingerprint}\nca@${caFingerprint ?? ''}`
}

/** The proxies a cluster's generation writes: every pod of that cluster (sidecars and gateways), in state order. */
export function proxiesOf<P extends {cluster: string}>(pods: P[], cluster: string): P[] {
  return pods.filter((p) => p.cluster === cluster)
}

/** Whether the loop's status shows every cluster generated more often than `since` says (0 for a cluster not named). */
export function generatedSince(status: IstiodStatus | undefined, clusters: string[], since: Record<string, number> = {}): boolean {
  return !!status && clusters.every((c) => (status.clusters[c]?.generation ?? 0) > (since[c] ?? 0))
}

/** Starts the loop as a detached process (its own process group; outlives `demo up`). */
export function startIstiodLoop(dir: string, options: {detached?: boolean; intervalMs?: number} = {}): {pid: number; logFile: string} {
  const logFile = join(dir, 'istiod.log')
  appendFileSync(logFile, '')
  const script = fileURLToPath(import.meta.url)
  const started = startProcess('istiod stand-in', process.execPath, [script, 'loop', dir, String(options.intervalMs ?? 2000)], logFile, options.detached ?? true)
  return {pid: started.pid, logFile}
}

export async function stopIstiodLoop(pid: number | undefined): Promise<void> {
  if (pid && isAlive(pid)) await stopProcess(pid, 2000)
}

/** Waits until the loop has generated every cluster at least `afterGeneration` + 1 times (or throws after timeoutMs). */
export async function waitForGeneration(dir: string, clusters: string[], since: Record<string, number> = {}, timeoutMs = 120_000): Promise<IstiodStatus> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = readIstiodStatus(dir)
    if (s && generatedSince(s, clusters, since)) return s
    if (Date.now() > end) throw new SmhError(`the istiod stand-in did not regenerate ${clusters.join(', ')} within ${timeoutMs / 1000}s (see ${join(dir, 'istiod.log')})`)
    await sleep(250)
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'loop') {
  const [, , , dir, interval] = process.argv
  process.on('SIGTERM', () => process.exit(0))
  runIstiodLoop(dir, {intervalMs: Number(interval) || 2000}).catch((e) => {
    process.stderr.write(`istiod stand-in: ${(e as Error).stack ?? e}\n`)
    process.exit(1)
  })
}

const INOTIFY = '/proc/sys/fs/inotify/max_user_instances'

/**
 * Envoy opens one inotify instance per file-based subscription (every EDS, RDS and SDS file, cds.json, lds.json),
 * and all proxies run as uid 1337: the kernel's default of 128 instances per user is used up by a few proxies, and
 * Envoy then aborts (`assert failure: inotify_fd_ >= 0`). Raises the limit to `atLeast` (root only); returns the
 * previous value when it changed it, so `demo down` can put it back.
 */
export function raiseInotifyInstances(atLeast = 8192, file = INOTIFY): number | undefined {
  const current = Number(readFileSync(file, 'utf8').trim())
  const raise = inotifyRaise(current, atLeast)
  if (raise === undefined) return undefined
  writeFileSync(file, String(raise))
  return current
}

/** The value to write for at least `atLeast` instances, or undefined when `current` already allows as many. */
export function inotifyRaise(current: number, atLeast: number): number | undefined {
  return current >= atLeast ? undefined : atLeast
}

/** Puts back the value raiseInotifyInstances returned (nothing when it changed nothing). */
export function restoreInotifyInstances(previous: number | undefined, file = INOTIFY): void {
  if (previous) writeFileSync(file, String(previous))
}
