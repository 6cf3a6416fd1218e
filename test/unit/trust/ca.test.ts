import {execFileSync} from 'node:child_process'
import {X509Certificate, createPrivateKey, createPublicKey} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {checkIntermediate, fingerprint, generateRoot, issueIntermediate} from '../../../src/trust/ca.js'

const dir = mkdtempSync(join(tmpdir(), 'smh-trust-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** openssl's own verdict on a chain (certificates only: no key is written to disk). */
function opensslVerify(rootPem: string, certPem: string): string {
  writeFileSync(join(dir, 'root.pem'), rootPem)
  writeFileSync(join(dir, 'cert.pem'), certPem)
  return execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', join(dir, 'root.pem'), join(dir, 'cert.pem')], {encoding: 'utf8'}).trim()
}

const kind2 = {trustDomain: 'kind2', istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster: 'kind2'}

describe('shared trust: a root and an intermediate per mesh (Istio plug-in CA)', () => {
  it('RSA 4096 as Service Mesh Hub: the intermediate chains to the root (openssl -x509_strict) with the plug-in CA extensions', async () => {
    const root = await generateRoot()
    const rootCert = new X509Certificate(root.certPem)
    expect(rootCert.subject).toContain('O=service-mesh-hub')
    expect(rootCert.ca).toBe(true)
    expect(createPublicKey(root.certPem).asymmetricKeyDetails?.modulusLength).toBe(4096)
    expect(new Date(rootCert.validTo).getTime() - Date.now()).toBeGreaterThan(364 * 86_400_000)

    const files = await issueIntermediate(root, kind2)
    expect(opensslVerify(root.certPem, files['ca-cert.pem'])).toMatch(/: OK$/)
    const intermediate = new X509Certificate(files['ca-cert.pem'])
    expect(intermediate.ca).toBe(true)
    expect(intermediate.checkIssued(rootCert)).toBe(true)
    expect(intermediate.verify(rootCert.publicKey)).toBe(true)
    expect(intermediate.subjectAltName).toBe('URI:spiffe://kind2/ns/istio-system/sa/istiod')
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], {input: files['ca-cert.pem'], encoding: 'utf8'})
    expect(text).toMatch(/CA:TRUE, pathlen:0/)
    expect(text).toMatch(/Certificate Sign/)
    // The key in ca-key.pem is the intermediate's, and the chain is intermediate then root.
    expect(createPublicKey(createPrivateKey(files['ca-key.pem'])).export({type: 'spki', format: 'pem'})).toBe(intermediate.publicKey.export({type: 'spki', format: 'pem'}))
    expect(files['cert-chain.pem'].indexOf(files['ca-cert.pem'].trim())).toBe(0)
    expect(files['cert-chain.pem']).toContain(root.certPem.trim())
    expect(files['root-cert.pem']).toBe(root.certPem)
  }, 60_000)

  it('ECDSA P-256 as an option', async () => {
    const root = await generateRoot({algorithm: 'ecdsa'})
    expect(createPublicKey(root.certPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    const files = await issueIntermediate(root, kind2)
    expect(opensslVerify(root.certPem, files['ca-cert.pem'])).toMatch(/: OK$/)
  })

  it('never outlives its root', async () => {
    const root = await generateRoot({algorithm: 'ecdsa', ttlDays: 10})
    const files = await issueIntermediate(root, {...kind2, ttlDays: 365})
    expect(new Date(new X509Certificate(files['ca-cert.pem']).validTo).getTime()).toBeLessThanOrEqual(new Date(new X509Certificate(root.certPem).validTo).getTime())
  })

  it('a valid intermediate stays; one of another root, or expiring within 30 days, is re-issued', async () => {
    const root = await generateRoot({algorithm: 'ecdsa'})
    const other = await generateRoot({algorithm: 'ecdsa'})
    const files = await issueIntermediate(root, kind2)
    expect((await checkIntermediate(files, root.certPem)).needsReissue).toBe(false)
    expect((await checkIntermediate(files, root.certPem)).chainsToRoot).toBe(true)
    const foreign = await checkIntermediate(files, other.certPem)
    expect(foreign).toMatchObject({chainsToRoot: false, needsReissue: true})
    const late = await checkIntermediate(files, root.certPem, {now: new Date(Date.now() + 340 * 86_400_000)})
    expect(late.chainsToRoot).toBe(true)
    expect(late.needsReissue).toBe(true)
    expect((await checkIntermediate({}, root.certPem)).needsReissue).toBe(true)
  })

  it('fingerprints as openssl does', async () => {
    const root = await generateRoot({algorithm: 'ecdsa'})
    const openssl = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], {input: root.certPem, encoding: 'utf8'}).trim().split('=')[1]
    expect(await fingerprint(root.certPem)).toBe(openssl)
  })
})
