/**
 * Reads what describe, check and simulate need (issue 10) from the live clusters: the management cluster's SMH
 * resources, every registered cluster at once with its stored credentials (discovery, API server version, the
 * generated objects with their field managers, each virtual mesh's `cacerts`), and each virtual mesh's root. A
 * cluster that fails is noted and the others go on. Returns an Observation (plain data); prints nothing.
 */
import 'reflect-metadata'

import {VersionApi} from '@kubernetes/client-node'

import {SMH_NAMESPACE, type VirtualMesh, resourceId} from '../api/types.js'
import {SmhError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {FIELD_MANAGER} from '../kube/client.js'
import {listAll} from '../kube/list.js'
import {CLUSTER_ANNOTATION, MANAGED_KINDS, MANAGED_SELECTOR, objectKey, sourcesOf} from '../kube/managed.js'
import type {RegisteredCluster} from '../kube/registry.js'
import {type ClusterFacts, type LiveObject, type MeshCa, type Observation, type StoredResource, type VirtualMeshTrust, buildObservation} from '../observe/observation.js'
import {checkIntermediate, fingerprint} from '../trust/ca.js'
import {type ManagementResources, readManagementResources} from './management.js'
import {type Discovered, type ProgressEvent, type StoredStatus, discoverRegistered} from './sync.js'
import {CACERTS} from './trust.js'

export interface ObserveOptions {
  mgmt: ClusterClient
  /** Also read versions, generated objects and certificates (describe, check); simulate needs only the config. */
  deep?: boolean
  onProgress?: (event: ProgressEvent) => void
  now?: Date
}

const decode = (data: Record<string, string> | undefined, key: string) => (data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined)

/**
 * Everything read at once. The management cluster unreachable, or without the SMH CRDs, is an answer for check
 * (`mgmt.error`, `crdsInstalled: false`) and nothing else is read.
 */
export async function observe(options: ObserveOptions): Promise<Observation> {
  const {mgmt} = options
  const now = options.now ?? new Date()
  let management: ManagementResources
  try {
    management = await readManagementResources(mgmt)
  } catch (error) {
    const message = error instanceof SmhError ? error.message : mgmt.describe(error)
    const crdsInstalled = !/CRDs are not installed/.test(message)
    return {...buildObservation({now, resources: [], snapshots: {}}), mgmt: {context: mgmt.context, error: message, crdsInstalled}, clusters: []}
  }
  let discovered: Discovered
  try {
    discovered = await discoverRegistered(mgmt, options.onProgress)
  } catch (error) {
    return {...buildObservation({now, resources: [], snapshots: {}}), mgmt: {context: mgmt.context, error: mgmt.describe(error), crdsInstalled: true}, clusters: []}
  }
  const {registry} = discovered
  const clusters: ClusterFacts[] = [
    ...registry.clusters.map((c): ClusterFacts => ({name: c.name, server: c.server, remoteContext: c.remoteContext, tokenExpires: c.tokenExpires,
      ...(discovered.failures.has(c.name) ? {error: discovered.failures.get(c.name)} : {})})),
    ...registry.unusable.map((u): ClusterFacts => ({name: u.name, error: u.message})),
  ].sort((a, b) => (a.name < b.name ? -1 : 1))
  const observation = buildObservation({
    now, resources: management.resources, snapshots: discovered.snapshots, clusters, invalid: management.invalid,
    mgmt: {context: mgmt.context, crdsInstalled: true},
    stored: [...management.stored.entries()].map(([id, o]) => storedOf(id, o)),
  })
  if (!options.deep) return observation
  const reachable = registry.clusters.filter((c) => !discovered.failures.has(c.name))
  const [, trust] = await Promise.all([
    Promise.all(reachable.map(async (cluster) => {
      const facts = clusters.find((c) => c.name === cluster.name)!
      const [version, live] = await Promise.all([apiServerVersion(cluster).catch(() => undefined), liveObjects(cluster).catch(() => undefined)])
      if (version) facts.apiServerVersion = version
      if (live) facts.live = live
    })),
    Promise.all(management.resources.filter((r): r is VirtualMesh => r.kind === 'VirtualMesh').map((vm) => virtualMeshTrust(mgmt, vm, observation, reachable, now))),
  ])
  observation.trust = trust
  return observation
}

function storedOf(id: string, object: Record<string, unknown>): StoredResource {
  const metadata = object.metadata as {name: string; namespace?: string; generation?: number}
  return {id, kind: object.kind as string, namespace: metadata.namespace ?? SMH_NAMESPACE, name: metadata.name,
    ...(metadata.generation === undefined ? {} : {generation: metadata.generation}),
    ...(object.status ? {status: object.status as StoredStatus} : {})}
}

async function apiServerVersion(cluster: RegisteredCluster): Promise<string> {
  return (await cluster.client.kubeconfig.makeApiClient(VersionApi).getCode()).gitVersion
}

interface ManagedFieldsEntry {manager?: string; operation?: string; fieldsV1?: Record<string, unknown>; subresource?: string}

/** The generated objects in one cluster, and who else manages their spec, labels or annotations. */
async function liveObjects(cluster: RegisteredCluster): Promise<LiveObject[]> {
  const lists = await Promise.all(MANAGED_KINDS.map((k) => listAll(cluster.client, k.apiVersion, k.kind, {labelSelector: MANAGED_SELECTOR}).catch(() => [])))
  return lists.flat()
    .filter((o) => (o.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? cluster.name) === cluster.name)
    .map((o) => {
      const entries = ((o.metadata as {managedFields?: ManagedFieldsEntry[]}).managedFields ?? [])
      const others = entries.filter((e) => e.manager !== FIELD_MANAGER && !e.subresource && touchesContent(e.fieldsV1))
      return {key: objectKey(o as never), sources: sourcesOf(o as never), otherManagers: others.map((e) => ({manager: e.manager ?? '(unnamed)', operation: e.operation ?? ''}))}
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1))
}

function touchesContent(fields: Record<string, unknown> | undefined): boolean {
  if (!fields) return false
  if (fields['f:spec']) return true
  const metadata = fields['f:metadata'] as Record<string, unknown> | undefined
  return Boolean(metadata?.['f:labels'] || metadata?.['f:annotations'])
}

async function virtualMeshTrust(mgmt: ClusterClient, vm: VirtualMesh, observation: Observation, reachable: RegisteredCluster[], now: Date): Promise<VirtualMeshTrust> {
  const id = resourceId(vm)
  const authority = vm.spec.mtlsConfig?.shared?.rootCertificateAuthority
  const rootSecret = authority?.secret
    ? `${authority.secret.namespace ?? vm.metadata.namespace ?? SMH_NAMESPACE}/${authority.secret.name}`
    : `${SMH_NAMESPACE}/${vm.metadata.name}.${vm.metadata.namespace ?? SMH_NAMESPACE}`
  const result: VirtualMeshTrust = {virtualMesh: id, rootSecret, meshes: []}
  let rootPem: string | undefined
  try {
    const [namespace, name] = rootSecret.split('/')
    const secret = await mgmt.readIfExists<{apiVersion: string; kind: string; metadata: {name: string}; data?: Record<string, string>}>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})
    rootPem = decode(secret?.data, 'root-cert.pem')
    if (!rootPem) result.rootError = `no root certificate in Secret ${rootSecret} of the management cluster: run kubectl smh sync`
    else {
      result.rootFingerprint = await fingerprint(rootPem)
      const {X509Certificate} = await import('@peculiar/x509')
      result.rootNotAfter = new X509Certificate(rootPem).notAfter.toISOString()
    }
  } catch (error) {
    result.rootError = mgmt.describe(error)
  }
  const meshes = observation.discovery.flatMap((d) => d.meshes)
  result.meshes = await Promise.all(vm.spec.meshes.map(async (ref): Promise<MeshCa> => {
    const mesh = meshes.find((m) => m.name === ref.name)
    if (!mesh) return {mesh: ref.name, cluster: '', namespace: '', present: false, error: `mesh ${ref.name} not discovered in any readable registered cluster`}
    const base = {mesh: mesh.name, cluster: mesh.cluster, namespace: mesh.installationNamespace}
    const cluster = reachable.find((c) => c.name === mesh.cluster)
    if (!cluster) return {...base, present: false, error: `cluster ${mesh.cluster} could not be read`}
    try {
      const secret = await cluster.client.readIfExists<{apiVersion: string; kind: string; metadata: {name: string}; data?: Record<string, string>}>({apiVersion: 'v1', kind: 'Secret', metadata: {name: CACERTS, namespace: mesh.installationNamespace}})
      if (!secret) return {...base, present: false}
      const files = {'ca-cert.pem': decode(secret.data, 'ca-cert.pem'), 'root-cert.pem': decode(secret.data, 'root-cert.pem'), 'cert-chain.pem': decode(secret.data, 'cert-chain.pem')}
      const ca: MeshCa = {...base, present: true}
      if (files['root-cert.pem']) ca.rootFingerprint = await fingerprint(files['root-cert.pem']).catch(() => undefined)
      const check = await checkIntermediate(files, rootPem ?? files['root-cert.pem'] ?? '', {now})
      if (check.notAfter.getTime() > 0) {
        ca.notAfter = check.notAfter.toISOString()
        ca.daysLeft = check.daysLeft
      }
      ca.chainsToRoot = rootPem ? check.chainsToRoot : undefined
      return ca
    } catch (error) {
      return {...base, present: false, error: cluster.client.describe(error)}
    }
  }))
  return result
}
