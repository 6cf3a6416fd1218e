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

// ---------------------------------------------------------------------------------------------------------------
// `oracle plugged-ca`: Istio's plugged-CA loader (what istiod runs at start on /etc/cacerts) on `cacerts` folders.

export interface PluggedCaCert {
  subject: string
  issuer: string
  notBefore: string
  notAfter: string
  isCA: boolean
  uris?: string[]
  /** `RSA 4096`, `ECDSA P-256`. */
  keyAlgorithm: string
  /** SHA-256, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  fingerprint: string
}

export interface PluggedCaBundle {
  name: string
  dir: string
  /** Istio's loader took the folder (util.NewVerifiedKeyCertBundleFromFile, IsCA) and NewIstioCA made a CA of it. */
  loaded: boolean
  /** Istio's words when it refused the folder. */
  loadError?: string
  caCert?: PluggedCaCert
  root?: PluggedCaCert
  /** The TTL istiod's CA gives a workload by default (24 h, capped by ca-cert.pem), as Go prints a duration. */
  defaultWorkloadTTL?: string
  workload?: {
    identity: string
    /** The leaf Istio's CA signed for a CSR made as istio-agent makes it. */
    certificate: PluggedCaCert
    /** Subjects of what SignWithCertChain returned: the leaf, then cert-chain.pem. */
    chain: string[]
    /** Go x509.Verify of that chain against this folder's root-cert.pem, for client and for server use. */
    verified: boolean
    verifyError?: string
    verifiedChain?: string[]
    /** The certificate's SPIFFE IDs are exactly [identity]. */
    identityMatches: boolean
    /** Istio's util.VerifyCertificate (key match, chain, SAN, workload key usages). */
    istioVerified: boolean
    istioVerifyError?: string
  }
}

export interface PluggedCaResult {
  bundles: PluggedCaBundle[]
  /** Each workload certificate (leaf + its cert-chain.pem) verified under every other loaded folder's root-cert.pem. */
  cross: {workload: string; root: string; verified: boolean; error?: string}[]
  istioLog?: {level: string; scope?: string; message: string}[]
  /** Every refusal and failed check; non-empty means exit code 1. */
  errors: string[]
}

export interface PluggedCaOptions {
  /** name → folder holding ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem. Order is kept. */
  dirs: Record<string, string>
  /** name → workload SPIFFE identity (default `spiffe://<name>/ns/default/sa/default`). */
  identities?: Record<string, string>
  /** The workload key the CSR carries: rsa (2048, istio-agent's default) or ecdsa (P-256). */
  workloadKey?: 'rsa' | 'ecdsa'
  /** Resolve with the errors instead of rejecting when Istio refused a bundle or a check failed. */
  allowErrors?: boolean
}

/**
 * Loads each folder with Istio's own plugged-CA code, has it sign a workload certificate and verifies it against the
 * folder's root and every other folder's root (test/oracle/pluggedca.go). Rejects with OracleError listing the
 * errors unless `allowErrors`; always rejects on bad usage (exit 2).
 */
export async function runPluggedCa(opts: PluggedCaOptions): Promise<PluggedCaResult> {
  const args = ['plugged-ca']
  for (const [name, dir] of Object.entries(opts.dirs)) args.push('--dir', `${name}=${dir}`)
  for (const [name, id] of Object.entries(opts.identities ?? {})) args.push('--identity', `${name}=${id}`)
  if (opts.workloadKey) args.push('--workload-key', opts.workloadKey)
  const {code, stdout, stderr} = await new Promise<{code: number; stdout: string; stderr: string}>((resolve, reject) => {
    execFile(oracleBinary(), args, {maxBuffer: 16 * 1024 * 1024}, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err)
      else resolve({code: err ? (err.code as number) : 0, stdout, stderr})
    })
  })
  if (code === 2 || !stdout.trim()) throw new OracleError(`oracle plugged-ca failed (exit ${code}): ${stderr.trim()}`, undefined, stderr)
  const result = JSON.parse(stdout) as PluggedCaResult
  if (result.errors.length > 0 && !opts.allowErrors) {
    throw new OracleError(`Istio's plugged-CA code refused our certificates:\n  ${result.errors.join('\n  ')}`, undefined, stderr)
  }
  return result
}
