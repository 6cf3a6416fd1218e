/**
 * `kubectl smh create virtualmesh NAME --mesh MESH...`: a VirtualMesh (shared trust, federation). The trust step
 * (root CA, cacerts per mesh) runs in sync, so this verb writes the VirtualMesh and syncs, as apply -f would.
 */
import {SMH_NAMESPACE, type VirtualMesh, type VirtualMeshSpec, resourceId} from '../../api/types.js'
import type {Mesh} from '../../discovery/types.js'
import {UsageError} from '../../errors.js'
import {
  type LiveWorld, type Plan, type VerbOptions, type VerbResult, type World, author, checkName, checkNamespace, meshRef, missingFlags, readWorld,
  resolveMesh, resource,
} from './author.js'

import {CA_KEY_ALGORITHM_ANNOTATION} from '../../api/types.js'
import {estimateVirtualMesh} from '../../translate/estimate.js'

export interface CreateVirtualMeshOptions extends VerbOptions {
  name?: string
  mesh?: string[]
  /** `NS/NAME` (or NAME in --namespace) of a Secret in the management cluster with root-cert.pem and key.pem. */
  rootCaSecret?: string
  caKeyAlgorithm?: 'rsa' | 'ecdsa'
  autoRestartPods?: boolean
  globalAccessPolicy?: 'enabled' | 'disabled'
  /** on-demand (default for a new VirtualMesh): only what routes use; all: SMH's permissive; none. */
  federation?: FederationFlag
  /** Deprecated spelling of `--federation none`. */
  noFederation?: boolean
}

export const FEDERATION_FLAGS = ['on-demand', 'all', 'none'] as const
export type FederationFlag = (typeof FEDERATION_FLAGS)[number]
const FEDERATION_SPEC: Record<FederationFlag, VirtualMeshSpec['federation']> = {'on-demand': {onDemand: {}}, all: {permissive: {}}, none: {none: {}}}

export function createVirtualMeshMissing(options: Partial<CreateVirtualMeshOptions>): string[] {
  return [...(options.name ? [] : ['NAME']), ...(options.mesh?.length ? [] : ['--mesh'])]
}

/** `NS/NAME` or `NAME` → where the root CA Secret is. */
export function rootSecretRef(value: string, namespace: string): {name: string; namespace: string} {
  const parts = value.split('/')
  if (parts.length > 2 || parts.some((p) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(p))) {
    throw new UsageError(`--root-ca-secret ${value}: expected NAMESPACE/NAME of a Secret, e.g. service-mesh-hub/my-root-ca`)
  }
  return parts.length === 2 ? {namespace: parts[0], name: parts[1]} : {namespace, name: parts[0]}
}

export function planCreateVirtualMesh(world: World, options: Omit<CreateVirtualMeshOptions, 'mgmt'>): Plan {
  const missing = createVirtualMeshMissing(options)
  if (missing.length) throw missingFlags(missing)
  const name = checkName(options.name!, 'NAME')
  const namespace = checkNamespace(options.namespace)
  const id = `VirtualMesh/${namespace}/${name}`
  const meshes: Mesh[] = []
  for (const value of options.mesh!) {
    const mesh = resolveMesh(world, value, '--mesh')
    if (meshes.includes(mesh)) throw new UsageError(`--mesh ${value}: given twice; name each mesh once`)
    const other = world.resources.find((r) => r.kind === 'VirtualMesh' && resourceId(r) !== id && r.spec.meshes.some((m) => m.name === mesh.name)) as VirtualMesh | undefined
    if (other) {
      throw new UsageError(`--mesh ${value}: already in VirtualMesh ${other.metadata.namespace ?? SMH_NAMESPACE}/${other.metadata.name}, and a mesh can be in one VirtualMesh only; add the other meshes there (kubectl smh create virtualmesh ${other.metadata.name} --mesh ...) or delete it first (kubectl smh delete vm ${other.metadata.name})`)
    }
    meshes.push(mesh)
  }
  if (options.rootCaSecret && options.caKeyAlgorithm) {
    throw new UsageError(`--ca-key-algorithm ${options.caKeyAlgorithm}: the key of --root-ca-secret ${options.rootCaSecret} is used as it is; leave one of them out`)
  }
  const notes: string[] = []
  if (options.noFederation && options.federation && options.federation !== 'none') {
    throw new UsageError(`--no-federation contradicts --federation ${options.federation}; give only --federation (--no-federation is the deprecated spelling of --federation none)`)
  }
  if (options.noFederation) notes.push('--no-federation is deprecated: it means --federation none (nothing federated; cross-cluster routes and failover are INVALID)')
  // A re-run without --federation keeps the stored VirtualMesh's mode (an update changes what it is asked to).
  const stored = world.resources.find((r) => r.kind === 'VirtualMesh' && resourceId(r) === id) as VirtualMesh | undefined
  const federation: VirtualMeshSpec['federation'] = options.noFederation ? FEDERATION_SPEC.none
    : options.federation ? FEDERATION_SPEC[options.federation]
      : stored ? stored.spec.federation : FEDERATION_SPEC['on-demand']
  const spec: VirtualMeshSpec = {
    meshes: meshes.map(meshRef),
    mtlsConfig: {
      shared: {rootCertificateAuthority: options.rootCaSecret ? {secret: rootSecretRef(options.rootCaSecret, namespace)} : {generated: {}}},
      ...(options.autoRestartPods ? {autoRestartPods: true} : {}),
    },
    ...(federation ? {federation} : {}),
    ...(options.globalAccessPolicy ? {globalAccessPolicy: options.globalAccessPolicy === 'enabled' ? 'ENABLED' : 'DISABLED'} : {}),
  }
  if (!options.autoRestartPods) notes.push(`istiod and the gateways load the new cacerts only when restarted: add --auto-restart-pods, or kubectl rollout restart deployment -n istio-system in each cluster`)
  const annotations = options.caKeyAlgorithm === 'ecdsa' ? {[CA_KEY_ALGORITHM_ANNOTATION]: 'ecdsa'} : undefined
  const vm: VirtualMesh = resource('VirtualMesh', name, namespace, spec, annotations)
  // What it will cost, before anything is written: objects per cluster and Envoy clusters per sidecar (pure).
  const estimate = estimateVirtualMesh(world.resources, world.discovery, vm)
  return {resources: [vm], notes, estimate}
}

/** The user's root must be in the management cluster with both keys (checked before anything is written). */
async function checkRootSecret(world: LiveWorld, vm: VirtualMesh, flag: string): Promise<void> {
  const ref = vm.spec.mtlsConfig?.shared?.rootCertificateAuthority?.secret
  if (!ref) return
  const namespace = ref.namespace ?? SMH_NAMESPACE
  const secret = await world.mgmt.readIfExists<{apiVersion: string; kind: string; metadata: {name: string}; data?: Record<string, string>}>({apiVersion: 'v1', kind: 'Secret', metadata: {name: ref.name, namespace}}).catch((error: unknown) => {
    throw world.mgmt.error(error)
  })
  const create = `kubectl create secret generic ${ref.name} -n ${namespace} --from-file=root-cert.pem --from-file=key.pem`
  if (!secret) throw new UsageError(`${flag} ${namespace}/${ref.name}: no such Secret in the management cluster "${world.mgmt.context}"; create it with ${create}`)
  const lacking = ['root-cert.pem', 'key.pem'].filter((k) => !secret.data?.[k])
  if (lacking.length) throw new UsageError(`${flag} ${namespace}/${ref.name}: the Secret has no ${lacking.join(' and ')} (it needs root-cert.pem and key.pem); recreate it with ${create}`)
}

export async function createVirtualMesh(options: CreateVirtualMeshOptions): Promise<VerbResult> {
  const world = options.world ?? await readWorld(options.mgmt, options.onProgress)
  const plan = planCreateVirtualMesh(world, options)
  await checkRootSecret(world, plan.resources[0] as VirtualMesh, '--root-ca-secret')
  return author(world, plan, options)
}
