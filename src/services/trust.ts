/**
 * The trust step of a VirtualMesh (DESIGN.md §5, issue 8): its root CA in the management cluster, and for each of its
 * meshes an intermediate written as Istio's plug-in CA (`cacerts`) with the registered cluster's own identity.
 * Idempotent: an intermediate that chains to the current root and has 30 days or more left is kept. Private keys
 * go from memory to a Secret and nowhere else.
 */
import {SMH_NAMESPACE, type VirtualMesh, resourceId} from '../api/types.js'
import type {Mesh} from '../discovery/types.js'
import {UsageError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {CLUSTER_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, SOURCES_ANNOTATION} from '../kube/managed.js'
import {type CertificateAuthority, type PluginCaFiles, checkIntermediate, fingerprint, generateRoot, issueIntermediate} from '../trust/ca.js'

export const ROOT_SECRET_TYPE = 'solo.io/generated-signing-cert'
export const CACERTS = 'cacerts'

interface SecretObject {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; labels?: Record<string, string>}
  data?: Record<string, string>
}

export interface MeshTrust {
  mesh: string
  cluster: string
  action: 'issued' | 'kept' | 'failed'
  /** When the intermediate in place expires (after the step). */
  notAfter?: string
  error?: string
}

export interface TrustResult {
  virtualMesh: string
  rootSecret: string
  rootFingerprint: string
  rootCreated: boolean
  meshes: MeshTrust[]
}

export interface TrustOptions {
  mgmt: ClusterClient
  virtualMesh: VirtualMesh
  /** The meshes the virtual mesh names, as discovery found them. */
  meshes: Mesh[]
  /** Registered cluster → its client (stored credentials). */
  clients: Map<string, ClusterClient>
  now?: Date
}

const decode = (data: Record<string, string> | undefined, key: string) => (data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined)
const encode = (text: string) => Buffer.from(text).toString('base64')

function readSecret(client: ClusterClient, namespace: string, name: string): Promise<SecretObject | undefined> {
  return client.readIfExists<SecretObject & {apiVersion: string; kind: string; metadata: {name: string}}>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})
}

/** The virtual mesh's root: the user's Secret, else the generated one (made once, kept in the management cluster). */
async function rootOf(mgmt: ClusterClient, vm: VirtualMesh): Promise<{root: CertificateAuthority; secret: string; created: boolean}> {
  const authority = vm.spec.mtlsConfig?.shared?.rootCertificateAuthority
  if (authority?.secret) {
    const namespace = authority.secret.namespace ?? vm.metadata.namespace ?? SMH_NAMESPACE
    const secret = await readSecret(mgmt, namespace, authority.secret.name).catch((error: unknown) => {
      throw mgmt.error(error)
    })
    const certPem = decode(secret?.data, 'root-cert.pem')
    const keyPem = decode(secret?.data, 'key.pem')
    if (!certPem || !keyPem) {
      throw new UsageError(`${resourceId(vm)}: spec.mtlsConfig.shared.rootCertificateAuthority.secret ${namespace}/${authority.secret.name} must hold root-cert.pem and key.pem in the management cluster "${mgmt.context}"`)
    }
    return {root: {certPem, keyPem}, secret: `${namespace}/${authority.secret.name}`, created: false}
  }
  const name = `${vm.metadata.name}.${vm.metadata.namespace ?? SMH_NAMESPACE}`
  const existing = await readSecret(mgmt, SMH_NAMESPACE, name).catch((error: unknown) => {
    throw mgmt.error(error)
  })
  const certPem = decode(existing?.data, 'root-cert.pem')
  const keyPem = decode(existing?.data, 'key.pem')
  if (certPem && keyPem) return {root: {certPem, keyPem}, secret: `${SMH_NAMESPACE}/${name}`, created: false}
  const generated = authority?.generated ?? {}
  const root = await generateRoot({orgName: generated.orgName, ttlDays: generated.ttlDays, rsaKeySizeBits: generated.rsaKeySizeBytes})
  try {
    await mgmt.apply({apiVersion: 'v1', kind: 'Secret', type: ROOT_SECRET_TYPE,
      metadata: {name, namespace: SMH_NAMESPACE, labels: {[MANAGED_BY_LABEL]: MANAGED_BY}, annotations: {[SOURCES_ANNOTATION]: resourceId(vm)}},
      data: {'root-cert.pem': encode(root.certPem), 'key.pem': encode(root.keyPem)}} as never)
  } catch (error) {
    throw mgmt.error(error)
  }
  return {root, secret: `${SMH_NAMESPACE}/${name}`, created: true}
}

/** Brings every mesh of one virtual mesh onto its root; a cluster that fails fails its mesh only. */
export async function syncTrust(options: TrustOptions): Promise<TrustResult> {
  const {virtualMesh: vm} = options
  const {root, secret, created} = await rootOf(options.mgmt, vm)
  const meshes = await Promise.all(options.meshes.map(async (mesh): Promise<MeshTrust> => {
    const client = options.clients.get(mesh.cluster)
    if (!client) return {mesh: mesh.name, cluster: mesh.cluster, action: 'failed', error: `cluster "${mesh.cluster}" is not registered`}
    try {
      const current = await readSecret(client, mesh.installationNamespace, CACERTS)
      const files: Partial<PluginCaFiles> = {}
      for (const key of ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const) files[key] = decode(current?.data, key)
      const check = await checkIntermediate(files, root.certPem, {now: options.now})
      if (!check.needsReissue) return {mesh: mesh.name, cluster: mesh.cluster, action: 'kept', notAfter: check.notAfter.toISOString()}
      const issued = await issueIntermediate(root, {trustDomain: mesh.trustDomain, istioNamespace: mesh.installationNamespace, istiodServiceAccount: mesh.istiodServiceAccount, cluster: mesh.cluster, now: options.now})
      await client.apply({apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
        metadata: {name: CACERTS, namespace: mesh.installationNamespace, labels: {[MANAGED_BY_LABEL]: MANAGED_BY},
          annotations: {[CLUSTER_ANNOTATION]: mesh.cluster, [SOURCES_ANNOTATION]: resourceId(vm)}},
        data: Object.fromEntries(Object.entries(issued).map(([k, v]) => [k, encode(v)]))} as never, {force: true})
      const after = await checkIntermediate(issued, root.certPem, {now: options.now})
      return {mesh: mesh.name, cluster: mesh.cluster, action: 'issued', notAfter: after.notAfter.toISOString()}
    } catch (error) {
      return {mesh: mesh.name, cluster: mesh.cluster, action: 'failed', error: client.describe(error)}
    }
  }))
  return {virtualMesh: resourceId(vm), rootSecret: secret, rootFingerprint: await fingerprint(root.certPem), rootCreated: created, meshes}
}
