/**
 * Workload certificates, as istiod's CA issues them (notes/dataplane.md §5): empty subject, critical SAN URI
 * `spiffe://<trust domain>/ns/<ns>/sa/<sa>`, digitalSignature+keyEncipherment, serverAuth+clientAuth, CA:false,
 * from now−2m for 24h, ECDSA P-256. Signed by the intermediate in the cluster's `cacerts` Secret (the virtual mesh's);
 * without one, by a CA made for that cluster (istiod self-signs). Written as files Envoy's file-based secrets read:
 * `<podDir>/certs/cert-chain.pem`, `key.pem` (0600), `root-cert.pem`, each replaced through a rename so a watching
 * Envoy sees whole files. Private keys are written only under the data plane's folder, 0600.
 */
import 'reflect-metadata'
import {createHash, webcrypto} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import * as x509 from '@peculiar/x509'

import {generateRoot} from '../trust/ca.js'

x509.cryptoProvider.set(webcrypto as Crypto)

/** A signing CA: its certificate and key, the chain above the workload cert, the root peers trust. */
export interface SigningCa {
  source: 'cacerts' | 'self-signed'
  certPem: string
  keyPem: string
  /** What goes after the workload cert in cert-chain.pem (the CA's cert and up). */
  chainPem: string
  rootPem: string
  /** Changes when the CA does: renew when it differs from what the certs were issued under. */
  fingerprint: string
}

export const CERT_FILES = {chain: 'cert-chain.pem', key: 'key.pem', root: 'root-cert.pem'} as const

const DAY_MS = 86_400_000
const SKEW_MS = 120_000

/** From a `cacerts` Secret's data (base64 values, as the API returns them). */
export function caFromCacerts(data: Record<string, string>): SigningCa | undefined {
  const get = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined)
  const certPem = get('ca-cert.pem')
  const keyPem = get('ca-key.pem')
  const rootPem = get('root-cert.pem')
  if (!certPem || !keyPem || !rootPem) return undefined
  const chainPem = get('cert-chain.pem') ?? certPem
  return {source: 'cacerts', certPem, keyPem, chainPem, rootPem, fingerprint: hash(certPem, rootPem)}
}

/** The cluster's own CA (self-signed root, as istiod makes without cacerts): made once, kept in caDir (key 0600). */
export async function selfSignedCa(cluster: string, caDir: string): Promise<SigningCa> {
  const certFile = join(caDir, 'root-cert.pem')
  const keyFile = join(caDir, 'root-key.pem')
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(caDir, {recursive: true, mode: 0o700})
    const root = await generateRoot({orgName: cluster, algorithm: 'ecdsa', ttlDays: 3650})
    writeFileSync(keyFile, root.keyPem, {mode: 0o600})
    writeFileSync(certFile, root.certPem)
  }
  const certPem = readFileSync(certFile, 'utf8')
  return {source: 'self-signed', certPem, keyPem: readFileSync(keyFile, 'utf8'), chainPem: certPem, rootPem: certPem, fingerprint: hash(certPem, certPem)}
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16)
}

async function importSigningKey(ca: SigningCa): Promise<{key: CryptoKey; algorithm: Algorithm | EcdsaParams}> {
  const cert = new x509.X509Certificate(ca.certPem)
  const der = x509.PemConverter.decode(ca.keyPem)[0]
  if (cert.publicKey.algorithm.name === 'ECDSA') {
    const namedCurve = (cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve ?? 'P-256'
    return {key: await webcrypto.subtle.importKey('pkcs8', der, {name: 'ECDSA', namedCurve}, false, ['sign']), algorithm: {name: 'ECDSA', hash: 'SHA-256'} as EcdsaParams}
  }
  return {key: await webcrypto.subtle.importKey('pkcs8', der, {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, false, ['sign']), algorithm: {name: 'RSASSA-PKCS1-v1_5'}}
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`
}

/** A workload certificate for one SPIFFE identity: the chain (leaf, then the CA's chain) and the key, as PEM. */
export async function issueWorkloadCert(ca: SigningCa, spiffe: string, options: {now?: Date; ttlHours?: number} = {}): Promise<{chainPem: string; keyPem: string}> {
  const now = options.now ?? new Date()
  const signer = await importSigningKey(ca)
  const caCert = new x509.X509Certificate(ca.certPem)
  const keys = await webcrypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, true, ['sign', 'verify']) as CryptoKeyPair
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
  serial[0] &= 0x7f
  const notAfter = new Date(Math.min(now.getTime() + (options.ttlHours ?? 24) * 3_600_000, caCert.notAfter.getTime()))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: '',
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - SKEW_MS),
    notAfter: notAfter.getTime() > now.getTime() ? notAfter : new Date(now.getTime() + DAY_MS),
    signingAlgorithm: signer.algorithm,
    publicKey: keys.publicKey,
    signingKey: signer.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{type: 'url', value: spiffe}], true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  })
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)
  return {chainPem: `${cert.toString('pem')}\n${ca.chainPem.trim()}\n`, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}
}

/** Writes a pod's three files into certDir, each through a rename (a watched directory sees whole files). */
export function writeCertFiles(certDir: string, files: {chainPem: string; keyPem: string; rootPem: string}): void {
  mkdirSync(certDir, {recursive: true, mode: 0o700})
  chmodSync(certDir, 0o700)
  const put = (name: string, text: string, mode: number) => {
    const tmp = join(certDir, `.${name}.tmp`)
    writeFileSync(tmp, text, {mode})
    chmodSync(tmp, mode)
    renameSync(tmp, join(certDir, name))
  }
  put(CERT_FILES.key, files.keyPem, 0o600)
  put(CERT_FILES.chain, files.chainPem, 0o644)
  put(CERT_FILES.root, files.rootPem.trim() + '\n', 0o644)
}
