/**
 * The trust step of a VirtualMesh (DESIGN.md §5, issue 8), run by sync for every accepted VirtualMesh: its root CA
 * in the management cluster; for each of its meshes an intermediate written as Istio's plug-in CA (`cacerts`) with
 * the registered cluster's own identity; each mesh made to accept the other meshes' trust domains; and, with
 * `autoRestartPods`, istiod and the gateways rollout-restarted after a new intermediate. Idempotent: an intermediate
 * that chains to the current root and has 30 days or more left is kept, and a step that changes nothing writes
 * nothing. Private keys go from memory to a Secret and nowhere else (never into a result, a status or a message).
 *
 * `cleanupTrust` undoes what the step did for VirtualMeshes that are gone or no longer name a mesh.
 */
import {PatchStrategy} from '@kubernetes/client-node'

import {CA_KEY_ALGORITHM_ANNOTATION, SMH_NAMESPACE, type VirtualMesh, resourceId} from '../api/types.js'
import {meshConfigOf} from '../discovery/discover.js'
import type {KubeObject, Mesh} from '../discovery/types.js'
import {UsageError} from '../errors.js'
import {type ClusterClient, FIELD_MANAGER} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {listAll} from '../kube/list.js'
import {CLUSTER_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, MANAGED_SELECTOR, SOURCES_ANNOTATION, sourcesOf} from '../kube/managed.js'
import {ALIASES_ANNOTATION, aliasesOf, parseAliasRecord, planAliases} from '../trust/aliases.js'
import {type CertificateAuthority, type PluginCaFiles, checkIntermediate, fingerprint, generateRoot, issueIntermediate} from '../trust/ca.js'

export const ROOT_SECRET_TYPE = 'solo.io/generated-signing-cert'
export const CACERTS = 'cacerts'
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt'
const SKIP_FLAG = 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN'

interface SecretObject {
  apiVersion?: string
  kind?: string
  type?: string
  metadata?: {name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>}
  data?: Record<string, string>
}

interface ConfigMapObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string>}
  data?: Record<string, string>
}

/** What the step did to a mesh's intermediate (in a dry run: would do). */
export type TrustAction = 'issued' | 'reissued' | 'kept' | 'failed' | 'skipped'

/** How a mesh accepts another trust domain of its virtual mesh. */
export type Acceptance = 'trustDomainAliases' | typeof SKIP_FLAG | 'missing'

export interface MeshTrust {
  mesh: string
  cluster: string
  namespace: string
  trustDomain: string
  action: TrustAction
  /** Why it was (re-)issued or skipped: `no cacerts`, `expires in 12 days`, `does not chain to the current root`. */
  reason?: string
  /** When the intermediate in place expires (after the step). */
  notAfter?: string
  /** Each other trust domain of the virtual mesh, and how this mesh accepts it (after the step). */
  acceptsTrustDomains: Record<string, Acceptance>
  /** What the step changed beyond `cacerts` (dry run: would change): `kind3: trustDomainAliases += kind2`. */
  changes: string[]
  /** Deployments rollout-restarted (dry run: to restart), `istio-system/istiod`. */
  restarted: string[]
  /** What could not be done, naming mesh and cluster, with the fix. */
  errors?: string[]
}

export interface TrustResult {
  virtualMesh: string
  dryRun: boolean
  rootSecret: string
  /** generated: made now (dry run: would be); kept: the generated one already there; user: from rootCertificateAuthority.secret. */
  root: 'generated' | 'kept' | 'user'
  rootCreated: boolean
  /** Unknown only in a dry run that would generate it. */
  rootFingerprint?: string
  rootNotAfter?: string
  meshes: MeshTrust[]
  /** The root could not be had: every mesh is left as it is. */
  error?: string
}

export interface TrustOptions {
  mgmt: ClusterClient
  virtualMesh: VirtualMesh
  /** The meshes the virtual mesh names, as discovery found them. */
  meshes: Mesh[]
  /** Registered cluster → its client (stored credentials). */
  clients: Map<string, ClusterClient>
  now?: Date
  /** Read and report; write nothing, generate no key. */
  dryRun?: boolean
  /** The clusters it may write to (sync --cluster); the others are only read. Default: all. */
  selected?: (cluster: string) => boolean
  /** Mesh name → the Deployments (in its Istio namespace) to restart after a new intermediate; default its istiod. */
  restartTargets?: Map<string, string[]>
  /** The command that re-registers a cluster, for the fixes in messages. */
  reRegister?: (cluster: string) => string
}

const decode = (data: Record<string, string> | undefined, key: string) => (data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : undefined)
const encode = (text: string) => Buffer.from(text).toString('base64')
const code = (error: unknown) => (error as {code?: unknown})?.code

function readSecret(client: ClusterClient, namespace: string, name: string): Promise<SecretObject | undefined> {
  return client.readIfExists<SecretObject & {apiVersion: string; kind: string; metadata: {name: string}}>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})
}

/** The virtual mesh's root: the user's Secret, else the generated one (made once, kept in the management cluster). */
async function rootOf(mgmt: ClusterClient, vm: VirtualMesh, dryRun: boolean): Promise<{root?: CertificateAuthority; secret: string; kind: TrustResult['root']; created: boolean}> {
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
    return {root: {certPem, keyPem}, secret: `${namespace}/${authority.secret.name}`, kind: 'user', created: false}
  }
  const name = `${vm.metadata.name}.${vm.metadata.namespace ?? SMH_NAMESPACE}`
  const secret = `${SMH_NAMESPACE}/${name}`
  const existing = async () => {
    const found = await readSecret(mgmt, SMH_NAMESPACE, name).catch((error: unknown) => {
      throw mgmt.error(error)
    })
    const certPem = decode(found?.data, 'root-cert.pem')
    const keyPem = decode(found?.data, 'key.pem')
    return certPem && keyPem ? {certPem, keyPem} : undefined
  }
  const found = await existing()
  if (found) return {root: found, secret, kind: 'kept', created: false}
  if (dryRun) return {secret, kind: 'generated', created: true}
  const generated = authority?.generated ?? {}
  const algorithm = vm.metadata.annotations?.[CA_KEY_ALGORITHM_ANNOTATION] === 'ecdsa' ? 'ecdsa' : 'rsa'
  const root = await generateRoot({algorithm, orgName: generated.orgName, ttlDays: generated.ttlDays, rsaKeySizeBits: generated.rsaKeySizeBytes})
  try {
    // Created, not applied: of two syncs that generate at once, one root wins and the other sync takes it.
    await mgmt.objects.create({apiVersion: 'v1', kind: 'Secret', type: ROOT_SECRET_TYPE,
      metadata: {name, namespace: SMH_NAMESPACE, labels: {[MANAGED_BY_LABEL]: MANAGED_BY}, annotations: {[SOURCES_ANNOTATION]: resourceId(vm)}},
      data: {'root-cert.pem': encode(root.certPem), 'key.pem': encode(root.keyPem)}} as never)
  } catch (error) {
    if (code(error) === 409) {
      const winner = await existing()
      if (winner) return {root: winner, secret, kind: 'kept', created: false}
    }
    throw mgmt.error(error)
  }
  return {root, secret, kind: 'generated', created: true}
}

/** The ConfigMap an istiod reads its mesh config from (Istio: `istio-<rev>` for a revision, else `istio`). */
async function readMeshConfig(client: ClusterClient, mesh: Mesh): Promise<ConfigMapObject | undefined> {
  const read = async (name: string) => client.readIfExists<ConfigMapObject>({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace: mesh.installationNamespace}})
  const found: KubeObject[] = []
  for (const name of mesh.revision === 'default' ? ['istio'] : [`istio-${mesh.revision}`, 'istio']) {
    const configMap = await read(name)
    if (configMap) found.push({...configMap, kind: 'ConfigMap'} as KubeObject)
  }
  const which = meshConfigOf(found, mesh.installationNamespace, mesh.revision)?.configMap
  return which ? (found.find((c) => c.metadata.name === which) as unknown as ConfigMapObject) : undefined
}

/**
 * Writes the change with a JSON merge patch that carries the resourceVersion read (optimistic lock): the
 * ConfigMap belongs to whoever installed Istio, so we take neither it nor its `mesh` key over with server-side
 * apply. On a conflict (someone wrote it meanwhile) it reads and plans again. istiod needs no restart for it:
 * it watches its mesh ConfigMap (istio/istio pilot/pkg/bootstrap/mesh.go getConfigurationSources →
 * pkg/config/mesh/kubemesh/watcher.go NewConfigMapSource, an informer on that one ConfigMap) and on any change
 * pushes every proxy again (pilot/pkg/bootstrap/server.go initMeshHandlers: "When the mesh config or networks
 * change, do a full push"); the inbound SAN check reads trustDomainAliases from the mesh config of each push
 * (pilot/pkg/networking/plugin/authn/util.go TrustDomainsForValidation).
 */
async function patchAliases(client: ClusterClient, mesh: Mesh, changes: Map<string, string[] | undefined>, write: boolean, initial?: ConfigMapObject):
  Promise<{configMap?: ConfigMapObject; aliases: string[]; added: string[]; removed: string[]}> {
  let configMap = initial ?? (await readMeshConfig(client, mesh))
  for (let attempt = 1; ; attempt++) {
    if (!configMap) throw new MissingMeshConfig()
    const plan = planAliases(configMap.data?.mesh ?? '', configMap.metadata.annotations?.[ALIASES_ANNOTATION], changes)
    if (!plan.changed || !write) return {configMap, aliases: plan.aliases, added: plan.added, removed: plan.removed}
    try {
      await client.objects.patch({apiVersion: 'v1', kind: 'ConfigMap',
        metadata: {name: configMap.metadata.name, namespace: configMap.metadata.namespace, resourceVersion: configMap.metadata.resourceVersion,
          annotations: {[ALIASES_ANNOTATION]: plan.annotation}},
        data: {mesh: plan.meshYaml}} as never, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch)
      return {configMap, aliases: plan.aliases, added: plan.added, removed: plan.removed}
    } catch (error) {
      if (code(error) !== 409 || attempt >= 5) throw error
      configMap = await client.readIfExists<ConfigMapObject>({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: configMap.metadata.name, namespace: configMap.metadata.namespace}})
    }
  }
}

class MissingMeshConfig extends Error {}

/** `kubectl rollout restart`: a new pod-template annotation, so the Deployment rolls its pods. */
async function rolloutRestart(client: ClusterClient, namespace: string, name: string, now: Date): Promise<void> {
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z') // RFC 3339, as kubectl writes it
  await client.objects.patch({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace},
    spec: {template: {metadata: {annotations: {[RESTARTED_AT_ANNOTATION]: at}}}}} as never, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.StrategicMergePatch)
}

const changeLine = (cluster: string, added: string[], removed: string[]) => [
  ...(added.length ? [`${cluster}: trustDomainAliases += ${added.join(', ')}`] : []),
  ...(removed.length ? [`${cluster}: trustDomainAliases -= ${removed.join(', ')}`] : []),
]

/** Brings every mesh of one virtual mesh onto its root; a cluster that fails fails its mesh only. */
export async function syncTrust(options: TrustOptions): Promise<TrustResult> {
  const {virtualMesh: vm} = options
  const id = resourceId(vm)
  const dryRun = options.dryRun ?? false
  const now = options.now ?? new Date()
  const selected = options.selected ?? (() => true)
  const reRegister = options.reRegister ?? ((cluster: string) => `kubectl smh register cluster ${cluster} --remote-context <context>`)
  let root: Awaited<ReturnType<typeof rootOf>>
  try {
    root = await rootOf(options.mgmt, vm, dryRun)
  } catch (error) {
    const message = (error as Error).message
    return {virtualMesh: id, dryRun, rootSecret: '', root: 'generated', rootCreated: false, error: message,
      meshes: options.meshes.map((mesh) => ({mesh: mesh.name, cluster: mesh.cluster, namespace: mesh.installationNamespace, trustDomain: mesh.trustDomain,
        action: 'failed', acceptsTrustDomains: {}, changes: [], restarted: [], errors: [`mesh ${mesh.name} (cluster "${mesh.cluster}"): no root CA: ${message}`]}))}
  }
  const rootCert = root.root?.certPem
  const restart = vm.spec.mtlsConfig?.autoRestartPods === true

  const meshes = await Promise.all(options.meshes.map(async (mesh): Promise<MeshTrust> => {
    const result: MeshTrust = {mesh: mesh.name, cluster: mesh.cluster, namespace: mesh.installationNamespace, trustDomain: mesh.trustDomain,
      action: 'kept', acceptsTrustDomains: {}, changes: [], restarted: []}
    const fail = (what: string) => (result.errors = [...(result.errors ?? []), `mesh ${mesh.name} (cluster "${mesh.cluster}"): ${what}`])
    const client = options.clients.get(mesh.cluster)
    if (!client) {
      fail(`cluster "${mesh.cluster}" is not registered: ${reRegister(mesh.cluster)}`)
      return {...result, action: 'failed'}
    }
    const write = !dryRun && selected(mesh.cluster)
    const where = mesh.installationNamespace
    // 1. The intermediate.
    try {
      const current = await readSecret(client, mesh.installationNamespace, CACERTS)
      const files: Partial<PluginCaFiles> = {}
      for (const key of ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const) files[key] = decode(current?.data, key)
      const check = rootCert ? await checkIntermediate(files, rootCert, {now}) : undefined
      if (check && !check.needsReissue) {
        result.notAfter = check.notAfter.toISOString()
      } else {
        result.action = current ? 'reissued' : 'issued'
        result.reason = !current ? 'no cacerts'
          : !rootCert ? 'a new root will be generated'
            : !check!.chainsToRoot ? 'does not chain to the current root'
              : `expires in ${check!.daysLeft} day${check!.daysLeft === 1 ? '' : 's'}`
        if (!selected(mesh.cluster)) {
          result.action = 'skipped'
          result.reason = `not in --cluster (would be ${current ? 're-issued' : 'issued'}: ${result.reason})`
          if (check?.chainsToRoot) result.notAfter = check.notAfter.toISOString()
        } else if (write) {
          const issued = await issueIntermediate(root.root!, {trustDomain: mesh.trustDomain, istioNamespace: mesh.installationNamespace, istiodServiceAccount: mesh.istiodServiceAccount, cluster: mesh.cluster, now})
          await client.apply({apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
            metadata: {name: CACERTS, namespace: mesh.installationNamespace, labels: {[MANAGED_BY_LABEL]: MANAGED_BY},
              annotations: {[CLUSTER_ANNOTATION]: mesh.cluster, [SOURCES_ANNOTATION]: id}},
            data: Object.fromEntries(Object.entries(issued).map(([k, v]) => [k, encode(v)]))} as never, {force: true})
          result.notAfter = (await checkIntermediate(issued, root.root!.certPem, {now})).notAfter.toISOString()
        }
      }
    } catch (error) {
      result.action = 'failed'
      fail(`cacerts in ${where} not written: ${client.describe(error)}${code(error) === 403 ? ` (re-register: ${reRegister(mesh.cluster)})` : ''}`)
    }

    // 2. The other meshes' trust domains.
    const others = [...new Set(options.meshes.filter((m) => m !== mesh).map((m) => m.trustDomain))].filter((d) => d !== mesh.trustDomain).sort()
    if (others.length && mesh.skipTrustDomainValidation) {
      for (const domain of others) result.acceptsTrustDomains[domain] = SKIP_FLAG
    } else if (others.length) {
      const configMapName = mesh.revision === 'default' ? 'istio' : `istio-${mesh.revision}`
      const domains = `trust domain${others.length === 1 ? '' : 's'} ${others.join(', ')}`
      const byHand = `add ${others.join(', ')} to trustDomainAliases in ConfigMap ${where}/${configMapName} (key mesh) by hand, or run istiod with ${SKIP_FLAG}=true`
      try {
        const done = await patchAliases(client, mesh, new Map([[id, others]]), write)
        result.changes.push(...changeLine(mesh.cluster, done.added, done.removed).map((line) => (write ? line : `${line} (not written)`)))
        const present = write ? done.aliases : aliasesOf(done.configMap?.data?.mesh ?? '')
        for (const domain of others) result.acceptsTrustDomains[domain] = present.includes(domain) ? 'trustDomainAliases' : 'missing'
      } catch (error) {
        for (const domain of others) result.acceptsTrustDomains[domain] = 'missing'
        if (error instanceof MissingMeshConfig) fail(`does not accept ${domains}: it has no mesh config ConfigMap ${where}/${configMapName}: create one with trustDomainAliases: [${others.join(', ')}], or run istiod with ${SKIP_FLAG}=true`)
        else if (code(error) === 403) fail(`does not accept ${domains}: its registration may not patch ConfigMap ${where}/${configMapName} (registered before kubectl-smh merged trust domains): re-register with ${reRegister(mesh.cluster)}, or ${byHand}`)
        else if (code(error) === undefined && error instanceof Error) fail(`does not accept ${domains}: ConfigMap ${where}/${configMapName}: ${error.message}: fix it, or ${byHand}`)
        else fail(`does not accept ${domains}: ${client.describe(error)}; or ${byHand}`)
      }
    }

    // 3. A new intermediate reaches istiod only when it (re)starts (notes/trust.md §2, §5).
    if (restart && (result.action === 'issued' || result.action === 'reissued')) {
      for (const name of options.restartTargets?.get(mesh.name) ?? [mesh.istiodName]) {
        try {
          if (write) await rolloutRestart(client, mesh.installationNamespace, name, now)
          result.restarted.push(`${mesh.installationNamespace}/${name}`)
        } catch (error) {
          fail(`Deployment ${mesh.installationNamespace}/${name} not restarted: ${client.describe(error)}; restart it: kubectl --context <context of ${mesh.cluster}> rollout restart deployment -n ${mesh.installationNamespace} ${name}`)
        }
      }
    }
    return result
  }))
  return {virtualMesh: id, dryRun, rootSecret: root.secret, root: root.kind, rootCreated: root.created,
    ...(rootCert ? {rootFingerprint: await fingerprint(rootCert), rootNotAfter: await rootNotAfter(rootCert)} : {}), meshes}
}

async function rootNotAfter(certPem: string): Promise<string> {
  const {X509Certificate} = await import('@peculiar/x509')
  return new X509Certificate(certPem).notAfter.toISOString()
}

/** One cluster the cleanup may look at (answered discovery, selected for writing). */
export interface CleanupCluster {
  name: string
  client: ClusterClient
  /** Its objects as discovery read them (the mesh ConfigMaps with their annotations). */
  objects: KubeObject[]
  meshes: Mesh[]
}

export interface TrustCleanupOptions {
  mgmt: ClusterClient
  clusters: CleanupCluster[]
  /** Every VirtualMesh stored in the management cluster (valid or not) → the mesh names its spec lists. */
  virtualMeshes: Map<string, Set<string>>
  dryRun?: boolean
}

export interface TrustCleanup {
  /** `management` or a cluster's name. */
  cluster: string
  /** `deleted Secret istio-system/cacerts (VirtualMesh/service-mesh-hub/vm is gone)`, `trustDomainAliases -= kind2 (...)`. */
  change: string
  error?: string
}

/**
 * Undoes the trust step of VirtualMeshes that are gone or no longer name a mesh: their `cacerts` (ours: our label
 * and their id in the sources annotation), the trust domain aliases recorded for them, and, for one that is gone,
 * the root kubectl-smh generated for it. istiod is not restarted: it keeps the CA it loaded until it restarts.
 */
export async function cleanupTrust(options: TrustCleanupOptions): Promise<TrustCleanup[]> {
  const out: TrustCleanup[] = []
  const dryRun = options.dryRun ?? false
  const why = (vm: string, mesh?: string) => (options.virtualMeshes.has(vm) ? `${vm} no longer names ${mesh ?? 'a mesh here'}` : `${vm} is gone`)
  const names = (vm: string, mesh: Mesh) => options.virtualMeshes.get(vm)?.has(mesh.name) ?? false
  await Promise.all(options.clusters.map(async (cluster) => {
    const namespaces = [...new Set(cluster.meshes.map((m) => m.installationNamespace))].sort()
    for (const namespace of namespaces) {
      const here = cluster.meshes.filter((m) => m.installationNamespace === namespace)
      try {
        const cacerts = await readSecret(cluster.client, namespace, CACERTS)
        const source = cacerts?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY ? sourcesOf(cacerts as never)[0] : undefined
        if (source && !here.some((m) => names(source, m))) {
          if (!dryRun) await cluster.client.deleteIfExists({apiVersion: 'v1', kind: 'Secret', metadata: {name: CACERTS, namespace}})
          out.push({cluster: cluster.name, change: `deleted Secret ${namespace}/${CACERTS} (${why(source)}; istiod keeps the CA it loaded until it restarts)${dryRun ? ' (not written)' : ''}`})
        }
      } catch (error) {
        out.push({cluster: cluster.name, change: `delete Secret ${namespace}/${CACERTS}`, error: cluster.client.describe(error)})
      }
    }
    for (const mesh of cluster.meshes) {
      const found = meshConfigOf(cluster.objects.filter((o) => o.kind === 'ConfigMap'), mesh.installationNamespace, mesh.revision)
      const configMap = cluster.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === mesh.installationNamespace && o.metadata.name === found?.configMap)
      const stale = Object.keys(parseAliasRecord(configMap?.metadata.annotations?.[ALIASES_ANNOTATION])).filter((vm) => !names(vm, mesh))
      if (!stale.length) continue
      try {
        const done = await patchAliases(cluster.client, mesh, new Map(stale.map((vm) => [vm, undefined])), !dryRun)
        const removed = done.removed.length ? `trustDomainAliases -= ${done.removed.join(', ')}` : 'trust domain alias record'
        out.push({cluster: cluster.name, change: `${removed} in ConfigMap ${mesh.installationNamespace}/${done.configMap?.metadata.name} (${stale.map((vm) => why(vm, mesh.name)).join('; ')})${dryRun ? ' (not written)' : ''}`})
      } catch (error) {
        out.push({cluster: cluster.name, change: `remove the trust domain aliases of ${stale.join(', ')} from the mesh config of ${mesh.name}`,
          error: code(error) === 403 ? `${cluster.client.describe(error)}: re-register the cluster, or remove them by hand` : cluster.client.describe(error)})
      }
    }
  }))
  try {
    const roots = await listAll<SecretObject & {apiVersion: string; kind: string; metadata: {name: string}}>(options.mgmt, 'v1', 'Secret', {namespace: SMH_NAMESPACE, labelSelector: MANAGED_SELECTOR})
    for (const secret of roots) {
      if (secret.type !== ROOT_SECRET_TYPE) continue
      const source = sourcesOf(secret as never)[0]
      if (!source || options.virtualMeshes.has(source)) continue
      if (!dryRun) await options.mgmt.deleteIfExists({apiVersion: 'v1', kind: 'Secret', metadata: {name: secret.metadata.name, namespace: SMH_NAMESPACE}})
      out.push({cluster: 'management', change: `deleted Secret ${SMH_NAMESPACE}/${secret.metadata.name} (the root CA generated for ${source}, which is gone)${dryRun ? ' (not written)' : ''}`})
    }
  } catch (error) {
    if (!isNotFound(error)) out.push({cluster: 'management', change: 'delete generated roots of VirtualMeshes that are gone', error: options.mgmt.describe(error)})
  }
  return out.sort((a, b) => (a.cluster === b.cluster ? (a.change < b.change ? -1 : 1) : a.cluster < b.cluster ? -1 : 1))
}

/**
 * deregister: everything the trust step wrote in one cluster, whatever VirtualMesh it was for (with the user's own
 * credentials there): our `cacerts` and every alias we recorded. Returns one line per change.
 */
export async function removeTrustFrom(client: ClusterClient, label: string, objects: KubeObject[], meshes: Mesh[]): Promise<string[]> {
  const removed: string[] = []
  for (const namespace of [...new Set(meshes.map((m) => m.installationNamespace))].sort()) {
    const cacerts = await readSecret(client, namespace, CACERTS)
    if (cacerts?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && await client.deleteIfExists({apiVersion: 'v1', kind: 'Secret', metadata: {name: CACERTS, namespace}})) {
      removed.push(`${label}: Secret/${namespace}/${CACERTS}`)
    }
  }
  for (const mesh of meshes) {
    const found = meshConfigOf(objects.filter((o) => o.kind === 'ConfigMap'), mesh.installationNamespace, mesh.revision)
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === mesh.installationNamespace && o.metadata.name === found?.configMap)
    const ours = Object.keys(parseAliasRecord(configMap?.metadata.annotations?.[ALIASES_ANNOTATION]))
    if (!ours.length) continue
    const done = await patchAliases(client, mesh, new Map(ours.map((vm) => [vm, undefined])), true)
    removed.push(`${label}: ConfigMap/${mesh.installationNamespace}/${done.configMap?.metadata.name}: ${done.removed.length ? `trustDomainAliases -= ${done.removed.join(', ')}` : 'alias record'}`)
  }
  return removed
}
