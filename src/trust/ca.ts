/**
 * Shared trust (DESIGN.md §5, notes/trust.md): one root CA per virtual mesh, one intermediate per mesh, written as
 * Istio's plug-in CA (`cacerts`). Keys are made here and handed back as PEM for the caller to store in a Secret; this
 * module writes nothing anywhere.
 */
import 'reflect-metadata' // @peculiar/x509's dependency injection needs it before it loads
import {webcrypto} from 'node:crypto'

import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as Crypto)

export type KeyAlgorithm = 'rsa' | 'ecdsa'

export interface CertificateAuthority {
  certPem: string
  keyPem: string
}

/** The four keys of Istio's `cacerts` Secret. */
export interface PluginCaFiles {
  'ca-cert.pem': string
  'ca-key.pem': string
  'cert-chain.pem': string
  'root-cert.pem': string
}

export interface RootOptions {
  /** Service Mesh Hub's root: O=service-mesh-hub, RSA 4096, 365 days. */
  orgName?: string
  ttlDays?: number
  algorithm?: KeyAlgorithm
  rsaKeySizeBits?: number
  /** The clock, for tests; certificates start 2 minutes earlier, as Istio's own do, to absorb clock skew. */
  now?: Date
}

export interface IntermediateOptions {
  /** The mesh's trust domain (`kind2`) and where istiod runs: the SAN Service Mesh Hub gave its intermediates. */
  trustDomain: string
  istioNamespace: string
  istiodServiceAccount: string
  /** Names the mesh in the subject (`L=<cluster>`, as Istio's Makefiles do). */
  cluster: string
  ttlDays?: number
  algorithm?: KeyAlgorithm
  rsaKeySizeBits?: number
  now?: Date
}

const DAY_MS = 86_400_000
const SKEW_MS = 120_000

function keyParams(algorithm: KeyAlgorithm, rsaKeySizeBits: number): RsaHashedKeyGenParams | EcKeyGenParams {
  return algorithm === 'ecdsa'
    ? {name: 'ECDSA', namedCurve: 'P-256'}
    : {name: 'RSASSA-PKCS1-v1_5', modulusLength: rsaKeySizeBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256'}
}

function signingAlgorithm(algorithm: KeyAlgorithm): Algorithm | EcdsaParams {
  return algorithm === 'ecdsa' ? {name: 'ECDSA', hash: 'SHA-256'} as EcdsaParams : {name: 'RSASSA-PKCS1-v1_5'}
}

async function keyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key)
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')
}

async function importKey(pem: string, algorithm: KeyAlgorithm): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]
  const params = algorithm === 'ecdsa' ? {name: 'ECDSA', namedCurve: 'P-256'} : {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}
  return webcrypto.subtle.importKey('pkcs8', der, params, false, ['sign'])
}

function serial(): string {
  // Positive, 16 random bytes: unique without a registry.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] &= 0x7f
  return Buffer.from(bytes).toString('hex')
}

/** A self-signed root CA (CA:TRUE without a path length: intermediates sit below it, notes/trust.md §5). */
export async function generateRoot(options: RootOptions = {}): Promise<CertificateAuthority> {
  const algorithm = options.algorithm ?? 'rsa'
  const now = options.now ?? new Date()
  const keys = await webcrypto.subtle.generateKey(keyParams(algorithm, options.rsaKeySizeBits ?? 4096), true, ['sign', 'verify']) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${options.orgName ?? 'service-mesh-hub'}, CN=Root CA`,
    notBefore: new Date(now.getTime() - SKEW_MS),
    notAfter: new Date(now.getTime() + (options.ttlDays ?? 365) * DAY_MS),
    signingAlgorithm: signingAlgorithm(algorithm),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return {certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey)}
}

/**
 * An intermediate CA for one mesh, signed by the root, as Istio's plug-in CA guide makes them: CA:TRUE with
 * pathlen 0, keyCertSign, SAN `spiffe://<trust domain>/ns/<istio ns>/sa/<istiod SA>`; `cert-chain.pem` is the
 * intermediate then the root. It may not outlive the root.
 */
export async function issueIntermediate(root: CertificateAuthority, options: IntermediateOptions): Promise<PluginCaFiles> {
  const rootCert = new x509.X509Certificate(root.certPem)
  const rootAlgorithm: KeyAlgorithm = rootCert.publicKey.algorithm.name === 'ECDSA' ? 'ecdsa' : 'rsa'
  const algorithm = options.algorithm ?? rootAlgorithm
  const now = options.now ?? new Date()
  const keys = await webcrypto.subtle.generateKey(keyParams(algorithm, options.rsaKeySizeBits ?? 4096), true, ['sign', 'verify']) as CryptoKeyPair
  const notAfter = new Date(Math.min(now.getTime() + (options.ttlDays ?? 365) * DAY_MS, rootCert.notAfter.getTime()))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `O=service-mesh-hub, CN=Intermediate CA, L=${options.cluster}`,
    issuer: rootCert.subject,
    notBefore: new Date(now.getTime() - SKEW_MS),
    notAfter,
    signingAlgorithm: signingAlgorithm(rootAlgorithm),
    publicKey: keys.publicKey,
    signingKey: await importKey(root.keyPem, rootAlgorithm),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{type: 'url', value: `spiffe://${options.trustDomain}/ns/${options.istioNamespace}/sa/${options.istiodServiceAccount}`}]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert),
    ],
  })
  const certPem = cert.toString('pem')
  return {
    'ca-cert.pem': certPem,
    'ca-key.pem': await keyPem(keys.privateKey),
    'cert-chain.pem': `${certPem}\n${root.certPem}`,
    'root-cert.pem': root.certPem,
  }
}

export interface IntermediateCheck {
  /** Signed by the root, within its dates, a CA. */
  chainsToRoot: boolean
  notAfter: Date
  /** Whole days left at `now`. */
  daysLeft: number
  /** Re-issue: it does not chain to the current root, or it expires within `renewWithinDays`. */
  needsReissue: boolean
}

/** Whether an existing `cacerts` can stay (idempotent trust: valid intermediates are left alone). */
export async function checkIntermediate(files: Partial<PluginCaFiles>, rootPem: string, options: {now?: Date; renewWithinDays?: number} = {}): Promise<IntermediateCheck> {
  const now = options.now ?? new Date()
  const renewWithinDays = options.renewWithinDays ?? 30
  let chainsToRoot = false
  let notAfter = new Date(0)
  try {
    const cert = new x509.X509Certificate(files['ca-cert.pem'] ?? '')
    const root = new x509.X509Certificate(rootPem)
    notAfter = cert.notAfter
    const constraints = cert.getExtension(x509.BasicConstraintsExtension)
    chainsToRoot = Boolean(constraints?.ca) && cert.issuer === root.subject && files['root-cert.pem']?.trim() === rootPem.trim() &&
      (await cert.verify({publicKey: root.publicKey, date: now}))
  } catch {
    chainsToRoot = false
  }
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS)
  return {chainsToRoot, notAfter, daysLeft, needsReissue: !chainsToRoot || daysLeft < renewWithinDays}
}

/** SHA-256 fingerprint of a certificate, as `openssl x509 -fingerprint -sha256` prints it. */
export async function fingerprint(certPem: string): Promise<string> {
  const digest = await new x509.X509Certificate(certPem).getThumbprint('SHA-256')
  return Buffer.from(digest).toString('hex').toUpperCase().match(/../g)!.join(':')
}
