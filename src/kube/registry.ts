import {KubeConfig} from '@kubernetes/client-node'
import {stringify} from 'yaml'

import {MULTICLUSTER_API_VERSION, SMH_NAMESPACE} from '../api/types.js'
import {type ClientOptions, ClusterClient} from './client.js'
import {isNotFound} from './errors.js'
import {listAll} from './list.js'

/** The Secret type and key Service Mesh Hub used for a registered cluster's kubeconfig. */
export const KUBECONFIG_SECRET_TYPE = 'solo.io/kubeconfig'
export const KUBECONFIG_SECRET_KEY = 'kubeconfig'
/** Annotations on that Secret: which kubeconfig context registered it, and when its token expires. */
export const REMOTE_CONTEXT_ANNOTATION = 'smh.solo.io/remote-context'
export const TOKEN_EXPIRY_ANNOTATION = 'smh.solo.io/token-expires'

export interface RegisteredCluster {
  name: string
  secretName: string
  clusterDomain: string
  remoteContext?: string
  tokenExpires?: string
  server: string
  /** Reaches the cluster with the stored credentials (never the user's own). */
  client: ClusterClient
}

export interface RegistryRead {
  clusters: RegisteredCluster[]
  /** Registered clusters whose credentials cannot be read: each fails its part, the others go on. */
  unusable: {name: string; message: string}[]
}

/** The command that repairs a registration, for messages. */
export function reRegisterCommand(name: string, remoteContext?: string): string {
  return `kubectl smh register cluster ${name} --remote-context ${remoteContext ?? '<context>'}`
}

/** A kubeconfig holding one cluster, one bearer token and one context, all named after the cluster. */
export function tokenKubeconfig(options: {cluster: string; server: string; certificateAuthorityData?: string; insecureSkipTlsVerify?: boolean; token: string}): string {
  const user = `kubectl-smh-${options.cluster}`
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{name: options.cluster, cluster: {
      server: options.server,
      ...(options.certificateAuthorityData ? {'certificate-authority-data': options.certificateAuthorityData} : {}),
      ...(options.insecureSkipTlsVerify ? {'insecure-skip-tls-verify': true} : {}),
    }}],
    users: [{name: user, user: {token: options.token}}],
    contexts: [{name: options.cluster, context: {cluster: options.cluster, user}}],
    'current-context': options.cluster,
  })
}

interface SecretObject {
  metadata?: {annotations?: Record<string, string>}
  type?: string
  data?: Record<string, string>
}

interface KubernetesClusterObject {
  metadata: {name: string}
  spec?: {secretName?: string; clusterDomain?: string}
}

/**
 * The registered clusters (KubernetesCluster resources in the management cluster) with a client for each that uses
 * the credentials stored at registration, so a teammate with access to the management cluster alone can work.
 */
export async function readRegisteredClusters(mgmt: ClusterClient, options: ClientOptions = {}): Promise<RegistryRead> {
  const registered = await listAll<KubernetesClusterObject & {apiVersion?: string; kind?: string}>(mgmt, MULTICLUSTER_API_VERSION, 'KubernetesCluster', {namespace: SMH_NAMESPACE})
  const clusters: RegisteredCluster[] = []
  const unusable: RegistryRead['unusable'] = []
  await Promise.all(registered.map(async (resource) => {
    const name = resource.metadata.name
    const secretName = resource.spec?.secretName || name
    let secret: SecretObject
    try {
      secret = await mgmt.objects.read<SecretObject & {apiVersion: string; kind: string; metadata: {name: string}}>({apiVersion: 'v1', kind: 'Secret', metadata: {name: secretName, namespace: SMH_NAMESPACE}})
    } catch (error) {
      const why = isNotFound(error)
        ? `its Secret ${SMH_NAMESPACE}/${secretName} is missing in the management cluster: ${reRegisterCommand(name)}`
        : mgmt.describe(error)
      unusable.push({name, message: `cluster "${name}": ${why}`})
      return
    }
    const remoteContext = secret.metadata?.annotations?.[REMOTE_CONTEXT_ANNOTATION]
    const encoded = secret.data?.[KUBECONFIG_SECRET_KEY]
    const kc = new KubeConfig()
    try {
      if (!encoded) throw new Error(`no key "${KUBECONFIG_SECRET_KEY}"`)
      kc.loadFromString(Buffer.from(encoded, 'base64').toString('utf8'))
      if (!kc.getCurrentCluster()) throw new Error('no current cluster')
    } catch (error) {
      unusable.push({name, message: `cluster "${name}": Secret ${SMH_NAMESPACE}/${secretName} holds no usable kubeconfig (${(error as Error).message}): ${reRegisterCommand(name, remoteContext)}`})
      return
    }
    const fix = `its stored token is expired or revoked: ${reRegisterCommand(name, remoteContext)}`
    clusters.push({
      name,
      secretName,
      clusterDomain: resource.spec?.clusterDomain || 'cluster.local',
      remoteContext,
      tokenExpires: secret.metadata?.annotations?.[TOKEN_EXPIRY_ANNOTATION],
      server: kc.getCurrentCluster()!.server,
      client: new ClusterClient(name, kc, {...options, hints: {unauthorizedFix: fix}}),
    })
  }))
  clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  unusable.sort((a, b) => (a.name < b.name ? -1 : 1))
  return {clusters, unusable}
}
