// Running upstream Envoy on what envoy-config.ts makes: validate a bootstrap, write file-based xDS atomically, start
// arguments, and whether a running Envoy accepted its whole config (from its admin API).
import {execFile, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {requireBinary} from '../controlplane/binaries.js'
import type {EnvoyObject, XdsFile} from './envoy-config.js'

/** The Envoy binary (test/env/build-tools.sh envoy, or KUBECTL_SMH_BIN_DIR/envoy); one line saying how to get it when missing. */
export const envoyBinary = (env: NodeJS.ProcessEnv = process.env): string => requireBinary('envoy', env)

export interface ValidateResult {
  ok: boolean
  /** Envoy's output (the reason when refused; deprecation warnings otherwise). */
  output: string
}

/** `envoy --mode validate -c FILE` on a bootstrap (an object, written to a temporary file, or a path). */
export async function validateEnvoyConfig(bootstrap: EnvoyObject | string, binary = envoyBinary()): Promise<ValidateResult> {
  let dir: string | undefined
  let file = bootstrap as string
  if (typeof bootstrap !== 'string') {
    dir = mkdtempSync(join(tmpdir(), 'smh-envoy-validate-'))
    file = join(dir, 'bootstrap.json')
    writeFileSync(file, JSON.stringify(bootstrap))
  }
  try {
    return await new Promise<ValidateResult>((resolve, reject) => {
      execFile(binary, ['--mode', 'validate', '-c', file, '--log-level', 'warning', '--disable-hot-restart'], {maxBuffer: 64 * 1024 * 1024}, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err)
        else resolve({ok: !err, output: `${stdout}${stderr}`.trim()})
      })
    })
  } finally {
    if (dir) rmSync(dir, {recursive: true, force: true})
  }
}

/**
 * Moves each file into place in the given order: written under a temporary name in the same folder, then renamed
 * (Envoy's filesystem subscriptions reload on a move onto the watched path and ignore in-place writes). Files
 * whose content is unchanged are left alone (no reload). Afterwards, files in the eds/, rds/ and sds/ folders that the
 * new set no longer has are removed. Returns the paths written.
 */
export function writeXdsFiles(files: XdsFile[]): string[] {
  const written: string[] = []
  for (const f of files) {
    let old: string | undefined
    try {
      old = readFileSync(f.path, 'utf8')
    } catch {}
    if (old === f.content) continue
    mkdirSync(dirname(f.path), {recursive: true})
    const tmp = join(dirname(f.path), `.${basename(f.path)}.${process.pid}.tmp`)
    writeFileSync(tmp, f.content)
    renameSync(tmp, f.path)
    written.push(f.path)
  }
  const keep = new Set(files.map((f) => f.path))
  for (const folder of new Set(files.map((f) => dirname(f.path)).filter((d) => /\/(eds|rds|sds)$/.test(d)))) {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (!keep.has(path) && name.endsWith('.json')) unlinkSync(path)
    }
  }
  return written
}

export interface EnvoyArgsOptions {
  logLevel?: string
  /** Worker threads (default 1: many proxies share few cores). */
  concurrency?: number
  /** Seconds to drain listeners a config update removes (default 1, so a test sees updates settle quickly). */
  drainTimeS?: number
}

/** Arguments to start Envoy on a fileXds bootstrap: no hot restart, so any number of Envoys run on one host. */
export function envoyArgs(bootstrap: string, opts: EnvoyArgsOptions = {}): string[] {
  return ['-c', bootstrap, '--disable-hot-restart', '--log-level', opts.logLevel ?? 'warning', '--concurrency', String(opts.concurrency ?? 1), '--drain-time-s', String(opts.drainTimeS ?? 1)]
}

export interface Acceptance {
  /** No rejected update anywhere, nothing warming, no listener that failed to start, and LDS and CDS applied. */
  accepted: boolean
  /** One line per problem, in Envoy's stat names. */
  problems: string[]
  /** The counters and gauges the verdict rests on. */
  stats: Record<string, number>
  /** Clusters and listeners still warming, by name (from /config_dump). */
  warming: {clusters: string[]; listeners: string[]}
  /**
   * DNS clusters (STRICT_DNS, LOGICAL_DNS) whose name resolution failed, with how often: for them Envoy counts a
   * failed lookup as `update_failure`, which says nothing about the config (Envoy took it). Not a problem; listed.
   */
  dnsFailures: Record<string, number>
}

export interface AcceptsOptions {
  /** How to GET an admin path (default fetch on adminUrl); e.g. through `ip netns exec NS curl` for an admin inside a namespace. */
  get?: (path: string) => Promise<string>
  /** Dynamic config expected (default true): LDS and CDS must each have applied at least one update. */
  dynamic?: boolean
}

/**
 * Whether a running Envoy accepted its whole config, from its admin API (`adminUrl`, e.g. http://127.0.0.1:15000):
 * every `*.update_rejected` and `*.update_failure` is 0 (LDS, CDS, each cluster's EDS, each RDS, each SDS secret; they
 * count since Envoy started, so one bad file leaves a mark even after a good one replaced it; a DNS cluster's
 * `update_failure` is a failed name lookup, not a refused config: listed in `dnsFailures` instead), no cluster or listener
 * warming (`cluster_manager.warming_clusters`, `listener_manager.total_listeners_warming`, /config_dump),
 * `listener_manager.listener_create_failure` is 0 (e.g. a port already taken), and LDS and CDS succeeded at least once.
 */
export async function envoyAccepts(adminUrl: string, opts: AcceptsOptions = {}): Promise<Acceptance> {
  const get =
    opts.get ??
    (async (path: string) => {
      const res = await fetch(new URL(path, adminUrl))
      if (!res.ok) throw new Error(`GET ${new URL(path, adminUrl)}: ${res.status}`)
      return res.text()
    })
  const stats: Record<string, number> = {}
  for (const line of (await get('/stats')).split('\n')) {
    const m = /^(\S+): (\d+)$/.exec(line.trim())
    if (m) stats[m[1]] = Number(m[2])
  }
  const problems: string[] = []
  const picked: Record<string, number> = {}
  const dump = JSON.parse(await get('/config_dump')) as {configs?: EnvoyObject[]}
  // Istio names each cluster's stats `<name>;` (its alt_stat_name); both spellings are matched.
  const dnsClusters = new Set<string>()
  for (const c of dump.configs ?? []) {
    for (const a of [...(c.static_clusters ?? []), ...(c.dynamic_active_clusters ?? [])]) {
      if (a.cluster?.type === 'STRICT_DNS' || a.cluster?.type === 'LOGICAL_DNS') {
        dnsClusters.add(`cluster.${a.cluster.name}.update_failure`)
        dnsClusters.add(`cluster.${a.cluster.alt_stat_name ?? a.cluster.name}.update_failure`)
      }
    }
  }
  const dnsFailures: Record<string, number> = {}
  for (const [name, value] of Object.entries(stats)) {
    if (dnsClusters.has(name)) {
      if (value > 0) dnsFailures[name.replace(/^cluster\./, '').replace(/;?\.update_failure$/, '')] = value
      continue
    }
    if (/\.update_(rejected|failure)$/.test(name) || /^(listener_manager\.(lds\.update_success|total_listeners_warming|listener_create_failure|total_listeners_active)|cluster_manager\.(cds\.update_success|warming_clusters|active_clusters))$/.test(name)) picked[name] = value
    // update_rejected: Envoy parsed the update and refused it; update_failure: it could not fetch or parse it (for
    // file-based xDS, a file it cannot read, or an Any whose @type it does not know).
    if (/\.update_(rejected|failure)$/.test(name) && value > 0) problems.push(`${name} = ${value}`)
  }
  const must = (name: string, ok: (v: number) => boolean, says: string) => {
    if (!(name in stats)) problems.push(`${name} missing`)
    else if (!ok(stats[name])) problems.push(`${name} = ${stats[name]} (${says})`)
  }
  must('cluster_manager.warming_clusters', (v) => v === 0, 'clusters still warming')
  must('listener_manager.total_listeners_warming', (v) => v === 0, 'listeners still warming')
  must('listener_manager.listener_create_failure', (v) => v === 0, 'a listener failed to start')
  if (opts.dynamic ?? true) {
    must('listener_manager.lds.update_success', (v) => v > 0, 'no listener update applied')
    must('cluster_manager.cds.update_success', (v) => v > 0, 'no cluster update applied')
  }
  const warming = {clusters: [] as string[], listeners: [] as string[]}
  for (const c of dump.configs ?? []) {
    for (const w of c.dynamic_warming_clusters ?? []) warming.clusters.push(w.cluster?.name ?? '?')
    for (const l of c.dynamic_listeners ?? []) if (l.warming_state) warming.listeners.push(l.name)
    for (const l of c.dynamic_listeners ?? []) if (l.error_state) problems.push(`listener ${l.name}: ${l.error_state.details ?? 'error'}`)
  }
  for (const n of warming.clusters) problems.push(`cluster ${n} warming`)
  for (const n of warming.listeners) problems.push(`listener ${n} warming`)
  return {accepted: problems.length === 0, problems, stats: picked, warming, dnsFailures}
}

/** What an Envoy build knows (from its admin /server_info: node.extensions), to check envoy-extensions.ts is current. */
export async function envoyExtensionsOf(binary = envoyBinary()): Promise<{version: string; names: string[]; typeUrls: string[]}> {
  const dir = mkdtempSync(join(tmpdir(), 'smh-envoy-info-'))
  const bootstrap = join(dir, 'bootstrap.json')
  writeFileSync(bootstrap, JSON.stringify({node: {id: 'extensions', cluster: 'extensions'}, admin: {address: {socketAddress: {address: '127.0.0.1', portValue: 0}}}}))
  const child = spawn(binary, ['-c', bootstrap, '--disable-hot-restart', '--log-level', 'error', '--admin-address-path', join(dir, 'admin')], {stdio: 'ignore'})
  try {
    let address = ''
    for (let i = 0; i < 200 && !address; i++) {
      await new Promise((r) => setTimeout(r, 50))
      try {
        address = readFileSync(join(dir, 'admin'), 'utf8').trim()
      } catch {}
    }
    if (!address) throw new Error(`${binary} did not start its admin`)
    const info = (await (await fetch(`http://${address}/server_info`)).json()) as {version: string; node: {extensions: {name: string; disabled?: boolean; type_urls?: string[]}[]}}
    const live = info.node.extensions.filter((e) => !e.disabled)
    return {
      version: info.version,
      names: [...new Set(live.map((e) => e.name))].sort(),
      typeUrls: [...new Set(live.flatMap((e) => e.type_urls ?? []))].sort(),
    }
  } finally {
    child.kill()
    rmSync(dir, {recursive: true, force: true})
  }
}
