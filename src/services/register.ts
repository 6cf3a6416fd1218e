/**
 * `register cluster` / `deregister cluster` (DESIGN.md §2): an identity with least privilege on the remote cluster,
 * its bounded token stored in the management cluster, and a KubernetesCluster that names it.
 */
import {readFileSync} from 'node:fs'

import {CoreV1Api, type KubeConfig} from '@kubernetes/client-node'

import {MULTICLUSTER_API_VERSION, SMH_NAMESPACE} from '../api/types.js'
import {discoverCluster} from '../discovery/discover.js'
import {DISCOVERED_KINDS} from '../discovery/kinds.js'
import type {KubeObject} from '../discovery/types.js'
import {SmhError, UsageError} from '../errors.js'
import {type ClientOptions, ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {forContext} from '../kube/kubeconfig.js'
import {listAll} from '../kube/list.js'
import {CLUSTER_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, MANAGED_KINDS, MANAGED_SELECTOR, objectKey} from '../kube/managed.js'
import {KUBECONFIG_SECRET_KEY, KUBECONFIG_SECRET_TYPE, REMOTE_CONTEXT_ANNOTATION, TOKEN_EXPIRY_ANNOTATION, tokenKubeconfig} from '../kube/registry.js'
import {meshConfigMapNames, readClusterObjects} from '../kube/snapshot.js'
import {notInstalled} from './management.js'
import {removeTrustFrom} from './trust.js'

/** Marks every RBAC object of one registration, so deregister finds exactly those. */
export const REGISTRATION_LABEL = 'smh.solo.io/registration'
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

export interface IstioNamespaceAccess {
  namespace: string
  /** Mesh config ConfigMaps discovery reads and the trust step patches (`istio`, `istio-<rev>`). */
  configMaps: string[]
  /** istiod and gateway Deployments, restarted when the shared root changes. */
  deployments: string[]
}

/**
 * Exactly what discovery and sync need (the README lists it): read the kinds discovery lists, write the Istio kinds
 * the translator generates, and in each Istio namespace only the named mesh config, the `cacerts` Secret and the
 * control plane's Deployments.
 */
export function registrationRules(istio: IstioNamespaceAccess[]): {cluster: PolicyRule[]; namespaced: {namespace: string; rules: PolicyRule[]}[]} {
  const read = new Map<string, Set<string>>()
  for (const kind of DISCOVERED_KINDS) {
    if (kind.scope !== 'cluster') continue
    const resource = kind.resource.split('.')[0]
    read.set(kind.group, (read.get(kind.group) ?? new Set()).add(resource))
  }
  const write = new Map<string, Set<string>>()
  for (const kind of MANAGED_KINDS) write.set(kind.group, (write.get(kind.group) ?? new Set()).add(kind.resource))
  const cluster: PolicyRule[] = []
  for (const [group, resources] of [...read.entries()].sort()) {
    // Kinds we also write are granted once, with the write verbs.
    const onlyRead = [...resources].filter((r) => !write.get(group)?.has(r)).sort()
    if (onlyRead.length) cluster.push({apiGroups: [group], resources: onlyRead, verbs: ['list']})
  }
  // stats reads each Istio proxy's :15090/stats/prometheus through the API server (GET only; no exec, no port-forward).
  cluster.push({apiGroups: [''], resources: ['pods/proxy'], verbs: ['get']})
  for (const [group, resources] of [...write.entries()].sort()) {
    // patch: server-side apply; create: an apply that creates is also authorised as create; delete: prune.
    cluster.push({apiGroups: [group], resources: [...resources].sort(), verbs: ['create', 'delete', 'list', 'patch']})
  }
  const namespaced = istio.map((access) => ({
    namespace: access.namespace,
    rules: [
      // patch: the trust step merges the other meshes' trust domains into trustDomainAliases (a merge patch).
      {apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: [...access.configMaps].sort()},
      {apiGroups: [''], resources: ['secrets'], verbs: ['delete', 'get', 'patch'], resourceNames: ['cacerts']},
      // A create is authorised before the name is known, so RBAC cannot name it: the admission policy below
      // refuses every Secret this identity creates but cacerts.
      {apiGroups: [''], resources: ['secrets'], verbs: ['create']},
      ...(access.deployments.length ? [{apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: [...access.deployments].sort()}] : []),
    ],
  }))
  return {cluster, namespaced}
}

/** The Istio namespaces of a cluster with the names the registration grants there, from its objects. */
export function istioAccessOf(cluster: string, objects: KubeObject[]): IstioNamespaceAccess[] {
  const discovered = discoverCluster(cluster, objects)
  const byNamespace = new Map<string, IstioNamespaceAccess>()
  for (const mesh of discovered.meshes) {
    const access = byNamespace.get(mesh.installationNamespace) ?? {namespace: mesh.installationNamespace, configMaps: [], deployments: []}
    byNamespace.set(mesh.installationNamespace, access)
    const istiod = objects.find((o) => o.kind === 'Deployment' && o.metadata.namespace === mesh.installationNamespace && o.metadata.name === mesh.istiodName)
    for (const name of istiod ? meshConfigMapNames(istiod) : ['istio']) if (!access.configMaps.includes(name)) access.configMaps.push(name)
    if (!access.deployments.includes(mesh.istiodName)) access.deployments.push(mesh.istiodName)
    for (const gateway of mesh.gateways) {
      for (const deployment of objects) {
        if (deployment.kind !== 'Deployment' || deployment.metadata.namespace !== gateway.namespace) continue
        const labels = deployment.spec?.template?.metadata?.labels ?? {}
        const matches = Object.entries(gateway.workloadLabels).every(([k, v]) => labels[k] === v)
        if (matches && gateway.namespace === mesh.installationNamespace && !access.deployments.includes(deployment.metadata.name)) access.deployments.push(deployment.metadata.name)
      }
    }
  }
  return [...byNamespace.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : 1))
}

/**
 * Admits this registration's Secret creates only for `cacerts` (RBAC grants create on Secrets in the Istio
 * namespaces, by name it cannot). A ValidatingAdmissionPolicy: in the API server itself, nothing runs.
 */
export function createOnlyCacertsPolicy(name: string, labels: Record<string, string>): Record<string, unknown>[] {
  const policy = roleName(name)
  return [
    {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: {name: policy, labels}, spec: {
      failurePolicy: 'Fail',
      matchConstraints: {resourceRules: [{apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['secrets']}]},
      matchConditions: [{name: 'registration-identity', expression: `request.userInfo.username == 'system:serviceaccount:${SMH_NAMESPACE}:${name}'`}],
      validations: [{expression: "object.metadata.name == 'cacerts'", message: `the kubectl-smh registration ${name} may create no Secret but cacerts`}],
    }},
    {apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: {name: policy, labels}, spec: {
      policyName: policy, validationActions: ['Deny'],
    }},
  ]
}

export interface RegisterOptions {
  kubeconfig: KubeConfig
  mgmt: ClusterClient
  name: string
  remoteContext: string
  apiServerAddress?: string
  clusterDomain?: string
  tokenDurationSeconds: number
  clientOptions?: ClientOptions
  onProgress?: (message: string) => void
}

export interface RegisterResult {
  name: string
  remoteContext: string
  server: string
  serviceAccount: string
  tokenExpires: string
  istioNamespaces: string[]
  written: string[]
}

const roleName = (name: string) => `kubectl-smh-${name}`

export async function registerCluster(options: RegisterOptions): Promise<RegisterResult> {
  const {name, mgmt} = options
  const progress = options.onProgress ?? (() => {})
  if (!CLUSTER_NAME.test(name) || name.length > 63) throw new UsageError(`cluster name "${name}" is not a DNS label: use lower-case letters, digits and '-', e.g. kind2`)
  // Both ends must be there before anything is written.
  try {
    await listAll(mgmt, MULTICLUSTER_API_VERSION, 'KubernetesCluster', {namespace: SMH_NAMESPACE, limit: 1})
  } catch (error) {
    if (isNotFound(error)) throw notInstalled(mgmt)
    throw mgmt.error(error)
  }
  const remoteKc = forContext(options.kubeconfig, options.remoteContext)
  const remote = new ClusterClient(options.remoteContext, remoteKc, options.clientOptions)
  const labels = {[MANAGED_BY_LABEL]: MANAGED_BY, [REGISTRATION_LABEL]: name}
  const written: string[] = []
  /** The cluster being talked to, so a failure names the right one. */
  let talkingTo = remote
  const apply = async (client: ClusterClient, object: Record<string, unknown>) => {
    talkingTo = client
    await client.apply(object as never)
    written.push(`${client === mgmt ? 'management' : options.remoteContext}: ${objectKey(object as never)}`)
  }
  try {
    progress(`${name}: discovering Istio in context ${options.remoteContext}`)
    const istio = istioAccessOf(name, await readClusterObjects(remote))
    const rules = registrationRules(istio)
    const subject = {kind: 'ServiceAccount', name, namespace: SMH_NAMESPACE}
    progress(`${name}: service account ${SMH_NAMESPACE}/${name} and its RBAC`)
    await apply(remote, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: SMH_NAMESPACE, labels: {[MANAGED_BY_LABEL]: MANAGED_BY}}})
    await apply(remote, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name, namespace: SMH_NAMESPACE, labels}})
    await apply(remote, {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name: roleName(name), labels}, rules: rules.cluster})
    await apply(remote, {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: {name: roleName(name), labels},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName(name)}, subjects: [subject]})
    for (const object of createOnlyCacertsPolicy(name, labels)) await apply(remote, object)
    for (const {namespace, rules: namespacedRules} of rules.namespaced) {
      await apply(remote, {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {name: roleName(name), namespace, labels}, rules: namespacedRules})
      await apply(remote, {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: {name: roleName(name), namespace, labels},
        roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName(name)}, subjects: [subject]})
    }
    progress(`${name}: requesting a token valid for ${Math.round(options.tokenDurationSeconds / 3600)}h`)
    talkingTo = remote
    const core = remoteKc.makeApiClient(CoreV1Api)
    const token = await core.createNamespacedServiceAccountToken({name, namespace: SMH_NAMESPACE, body: {spec: {audiences: [], expirationSeconds: options.tokenDurationSeconds}}})
    const cluster = remoteKc.getCurrentCluster()!
    const server = options.apiServerAddress ?? cluster.server
    const caData = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined)
    const expires = new Date(token.status!.expirationTimestamp as unknown as string).toISOString()
    const kubeconfig = tokenKubeconfig({cluster: name, server, certificateAuthorityData: caData, insecureSkipTlsVerify: cluster.skipTLSVerify, token: token.status!.token})
    progress(`${name}: storing its credentials in the management cluster (${mgmt.context})`)
    await apply(mgmt, {apiVersion: 'v1', kind: 'Secret', type: KUBECONFIG_SECRET_TYPE,
      metadata: {name, namespace: SMH_NAMESPACE, labels, annotations: {[REMOTE_CONTEXT_ANNOTATION]: options.remoteContext, [TOKEN_EXPIRY_ANNOTATION]: expires}},
      data: {[KUBECONFIG_SECRET_KEY]: Buffer.from(kubeconfig).toString('base64')}})
    await apply(mgmt, {apiVersion: MULTICLUSTER_API_VERSION, kind: 'KubernetesCluster', metadata: {name, namespace: SMH_NAMESPACE, labels},
      spec: {secretName: name, clusterDomain: options.clusterDomain ?? 'cluster.local'}})
    return {name, remoteContext: options.remoteContext, server, serviceAccount: `${SMH_NAMESPACE}/${name}`, tokenExpires: expires, istioNamespaces: istio.map((i) => i.namespace), written}
  } catch (error) {
    if (error instanceof SmhError) throw error
    throw talkingTo.error(error)
  }
}

export interface DeregisterOptions {
  kubeconfig: KubeConfig
  mgmt: ClusterClient
  name: string
  /** The context to clean the remote cluster with (default: the one that registered it). */
  remoteContext?: string
  clientOptions?: ClientOptions
  onProgress?: (message: string) => void
}

export interface DeregisterResult {
  name: string
  removed: string[]
}

/**
 * Removes every object kubectl-smh generated in the cluster (and the `cacerts` and trust domain aliases of the trust
 * step), then the registration's RBAC, account and records.
 */
export async function deregisterCluster(options: DeregisterOptions): Promise<DeregisterResult> {
  const {mgmt, name} = options
  const progress = options.onProgress ?? (() => {})
  const [registration, secret] = await Promise.all([
    mgmt.readIfExists({apiVersion: MULTICLUSTER_API_VERSION, kind: 'KubernetesCluster', metadata: {name, namespace: SMH_NAMESPACE}}),
    mgmt.readIfExists<{apiVersion: string; kind: string; metadata?: {annotations?: Record<string, string>}}>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace: SMH_NAMESPACE}}),
  ]).catch((error: unknown) => {
    throw mgmt.error(error)
  })
  const registered = registration !== undefined
  if (!registered && !secret) throw new UsageError(`cluster "${name}" is not registered (see kubectl smh get clusters)`)
  const remoteContext = options.remoteContext ?? secret?.metadata?.annotations?.[REMOTE_CONTEXT_ANNOTATION]
  if (!remoteContext) throw new UsageError(`cluster "${name}": which kubeconfig context reaches it is not recorded: pass --remote-context`)
  const remote = new ClusterClient(remoteContext, forContext(options.kubeconfig, remoteContext), options.clientOptions)
  const removed: string[] = []
  const remove = async (client: ClusterClient, object: {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}}) => {
    if (await client.deleteIfExists(object)) removed.push(`${client === mgmt ? 'management' : remoteContext}: ${objectKey(object)}`)
  }
  try {
    progress(`${name}: removing the objects kubectl-smh generated there`)
    for (const kind of [...MANAGED_KINDS].reverse()) {
      const objects = await listAll(remote, kind.apiVersion, kind.kind, {labelSelector: MANAGED_SELECTOR}).catch((error: unknown) => {
        if (isNotFound(error)) return [] // no Istio CRDs there: nothing of ours either
        throw error
      })
      for (const object of objects) {
        if ((object.metadata?.annotations?.[CLUSTER_ANNOTATION] ?? name) !== name) continue
        await remove(remote, {apiVersion: kind.apiVersion, kind: kind.kind, metadata: {name: object.metadata!.name!, namespace: object.metadata!.namespace}})
      }
    }
    progress(`${name}: removing the cacerts and trust domain aliases kubectl-smh wrote there`)
    // istiod keeps the CA it loaded until it restarts; it is not restarted here.
    const objects = await readClusterObjects(remote)
    removed.push(...await removeTrustFrom(remote, remoteContext, objects, discoverCluster(name, objects).meshes))
    progress(`${name}: removing its RBAC and service account`)
    const selector = `${REGISTRATION_LABEL}=${name}`
    for (const [apiVersion, kind] of [['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole'], ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding'], ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy']]) {
      for (const object of await listAll(remote, apiVersion, kind, {labelSelector: selector})) {
        await remove(remote, {apiVersion, kind, metadata: {name: object.metadata!.name!, namespace: object.metadata!.namespace}})
      }
    }
    await remove(remote, {apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name, namespace: SMH_NAMESPACE}})
    // The namespace is ours; it goes with the last registration that used it.
    const accounts = await listAll(remote, 'v1', 'ServiceAccount', {namespace: SMH_NAMESPACE, labelSelector: REGISTRATION_LABEL})
    if (accounts.length === 0) await remove(remote, {apiVersion: 'v1', kind: 'Namespace', metadata: {name: SMH_NAMESPACE}})
  } catch (error) {
    throw new SmhError(`${remote.describe(error)}; the registration was kept so that deregister can finish once the cluster answers`)
  }
  try {
    await remove(mgmt, {apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace: SMH_NAMESPACE}})
    await remove(mgmt, {apiVersion: MULTICLUSTER_API_VERSION, kind: 'KubernetesCluster', metadata: {name, namespace: SMH_NAMESPACE}})
  } catch (error) {
    throw mgmt.error(error)
  }
  return {name, removed}
}
