// The xDS oracle from TypeScript: runs Istio's own config compiler (test/oracle, Go) on one cluster's objects and
// returns the Envoy configuration one proxy would receive. Used by test/integration/oracle/*.test.ts.
import {execFile, execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const buildTools = join(root, 'test/env/build-tools.sh')

/** Envoy resources in protojson form (lowerCamelCase field names, `@type` on Any), as `istioctl proxy-config -o json`. */
export type Envoy = Record<string, any>

export interface Simulation {
  call: string
  mode: 'outbound' | 'inbound' | 'gateway'
  address: string
  port: number
  listener?: string
  filterChain?: string
  /** SNI match of the chain that took a TLS connection (gateway chains have no name). */
  serverNames?: string[]
  routeConfig?: string
  virtualHost?: string
  route?: string
  /** Empty for weighted routes: see weightedClusters. */
  cluster?: string
  weightedClusters?: {name: string; weight: number}[]
  /** Ordered children when `cluster` is an envoy.clusters.aggregate cluster. */
  aggregateChildren?: string[]
  error?: string
}

export interface OracleResult {
  cluster: string
  proxy: {id: string; type: 'sidecar' | 'router'; ip: string; namespace: string; cluster: string; istioVersion: string; labels: Record<string, string>; locality?: string}
  clusters: Envoy[]
  listeners: Envoy[]
  routes: Envoy[]
  /** ClusterLoadAssignments of the EDS clusters. */
  endpoints: Envoy[]
  simulations?: Simulation[]
  /** istiod's push status (pilot_eds_no_instances, pilot_duplicate_envoy_clusters, ...). */
  pushStatus?: Record<string, Record<string, {proxy?: string; message?: string}>>
  inputs: {configs: string[]; ignored?: string[]; derivedEndpointSlices: number; kubernetesObjects: number}
  istioLog?: {level: string; scope?: string; message: string}[]
  warnings: string[]
  /** Everything Istio rejected or ignored, in its own words; non-empty means exit code 1. */
  errors: string[]
}

export interface OracleOptions {
  cluster: string
  /** NAMESPACE/POD of the proxy. */
  proxy: string
  snapshotYaml?: string
  snapshotFile?: string
  configYaml?: string
  configFiles?: string[]
  simulate?: string[]
  proxyType?: 'sidecar' | 'router' | 'auto'
  istioVersion?: string
  /** Resolve with the errors instead of rejecting when Istio rejected or ignored something. */
  allowErrors?: boolean
}

export class OracleError extends Error {
  constructor(message: string, readonly result?: OracleResult, readonly stderr?: string) {
    super(message)
  }
}

let binary: string | undefined
/** The cached oracle binary, built by test/env/build-tools.sh if missing (minutes when cold). */
export function oracleBinary(): string {
  if (binary && existsSync(binary)) return binary
  const path = execFileSync('bash', [buildTools, 'oracle-path'], {encoding: 'utf8'}).trim()
  if (!existsSync(path)) execFileSync('bash', [buildTools, 'oracle'], {stdio: ['ignore', 'ignore', 'inherit']})
  binary = path
  return path
}

export async function runOracle(opts: OracleOptions): Promise<OracleResult> {
  const bin = oracleBinary()
  const dir = mkdtempSync(join(tmpdir(), 'smh-oracle-'))
  try {
    const args = ['--cluster', opts.cluster, '--proxy', opts.proxy]
    if (opts.snapshotFile) args.push('--snapshot', opts.snapshotFile)
    if (opts.snapshotYaml !== undefined) {
      writeFileSync(join(dir, 'snapshot.yaml'), opts.snapshotYaml)
      args.push('--snapshot', join(dir, 'snapshot.yaml'))
    }
    for (const f of opts.configFiles ?? []) args.push('--config', f)
    if (opts.configYaml !== undefined) {
      writeFileSync(join(dir, 'config.yaml'), opts.configYaml)
      args.push('--config', join(dir, 'config.yaml'))
    }
    for (const s of opts.simulate ?? []) args.push('--simulate', s)
    if (opts.proxyType) args.push('--proxy-type', opts.proxyType)
    if (opts.istioVersion) args.push('--istio-version', opts.istioVersion)
    const {code, stdout, stderr} = await new Promise<{code: number; stdout: string; stderr: string}>((resolve, reject) => {
      execFile(bin, args, {maxBuffer: 256 * 1024 * 1024}, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err)
        else resolve({code: err ? (err.code as number) : 0, stdout, stderr})
      })
    })
    if (code === 2 || !stdout.trim()) throw new OracleError(`oracle failed (exit ${code}): ${stderr.trim()}`, undefined, stderr)
    const result = JSON.parse(stdout) as OracleResult
    if (result.errors.length > 0 && !opts.allowErrors) {
      throw new OracleError(`Istio rejected or ignored part of the configuration for ${opts.proxy} in ${opts.cluster}:\n  ${result.errors.join('\n  ')}`, result, stderr)
    }
    return result
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

// Helpers for assertions.
export const findCluster = (r: OracleResult, name: string): Envoy | undefined => r.clusters.find(c => c.name === name)
export const findEndpoints = (r: OracleResult, cluster: string): Envoy | undefined => r.endpoints.find(e => e.clusterName === cluster)
/** host:port of every endpoint of a ClusterLoadAssignment, or of a STRICT_DNS cluster's inline load assignment, with its priority. */
export function endpointAddresses(cla: Envoy | undefined): {address: string; priority: number; health?: string}[] {
  const out: {address: string; priority: number; health?: string}[] = []
  for (const loc of cla?.endpoints ?? []) {
    for (const lb of loc.lbEndpoints ?? []) {
      const sa = lb.endpoint?.address?.socketAddress
      if (sa) out.push({address: `${sa.address}:${sa.portValue}`, priority: loc.priority ?? 0, health: lb.healthStatus})
    }
  }
  return out
}
export const aggregateChildren = (c: Envoy | undefined): string[] | undefined =>
  c?.clusterType?.name === 'envoy.clusters.aggregate' ? c.clusterType.typedConfig?.clusters : undefined
