/**
 * `install` / `uninstall`: the SMH CRDs and the service-mesh-hub namespace on the management cluster, nothing that
 * runs (DESIGN.md §2).
 */
import {type CustomResourceDefinition, crdManifests} from '../api/crds.js'
import {KIND_SCHEMAS} from '../api/schema.js'
import {SMH_NAMESPACE} from '../api/types.js'
import {SmhError, UsageError} from '../errors.js'
import type {ClusterClient} from '../kube/client.js'
import {MANAGED_BY, MANAGED_BY_LABEL, objectKey} from '../kube/managed.js'
import {listSmhKind} from './management.js'

export interface InstallResult {
  context: string
  objects: {object: string; action: 'created' | 'updated' | 'unchanged'}[]
}

const ESTABLISH_TIMEOUT_MS = 30_000

export async function install(mgmt: ClusterClient): Promise<InstallResult> {
  const wanted = [
    {apiVersion: 'v1', kind: 'Namespace', metadata: {name: SMH_NAMESPACE, labels: {[MANAGED_BY_LABEL]: MANAGED_BY}}},
    ...crdManifests(),
  ]
  const objects: InstallResult['objects'] = []
  try {
    for (const object of wanted) {
      const before = await mgmt.readIfExists<{apiVersion: string; kind: string; metadata: {resourceVersion?: string}}>(object)
      const after = await mgmt.apply<{apiVersion: string; kind: string; metadata: {resourceVersion?: string}}>(object as never)
      const action = !before ? 'created' : before.metadata?.resourceVersion === after.metadata?.resourceVersion ? 'unchanged' : 'updated'
      objects.push({object: objectKey(object), action})
    }
    // Served only once Established: wait, so the next command (register, apply) does not meet a 404.
    const deadline = Date.now() + ESTABLISH_TIMEOUT_MS
    for (const crd of crdManifests()) {
      for (;;) {
        const current = await mgmt.objects.read<{apiVersion: string; kind: string; metadata: {name: string}; status?: {conditions?: {type: string; status: string}[]}}>(crd as never)
        if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') && await discoverable(mgmt, crd)) break
        if (Date.now() > deadline) throw new SmhError(`cluster "${mgmt.context}": CRD ${crd.metadata.name} is not Established and served (in API discovery) after ${ESTABLISH_TIMEOUT_MS / 1000}s: see kubectl get crd ${crd.metadata.name} -o yaml and kubectl api-resources --api-group=${crd.spec.group}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  } catch (error) {
    throw mgmt.error(error)
  }
  return {context: mgmt.context, objects}
}

/**
 * The CRD's group/version discovery lists it. The API server updates discovery apart from the Established condition,
 * a moment later; clients (client-node, kubectl) find a kind's resource through discovery, so until then they get 404.
 */
async function discoverable(mgmt: ClusterClient, crd: CustomResourceDefinition): Promise<boolean> {
  const version = crd.spec.versions[0].name
  try {
    const list = JSON.parse(await mgmt.objects.getText(`/apis/${crd.spec.group}/${version}`)) as {resources?: {name: string}[]}
    return (list.resources ?? []).some((r) => r.name === crd.spec.names.plural)
  } catch {
    return false
  }
}

export interface UninstallResult {
  context: string
  removed: string[]
}

/** Removes the CRDs (and with them every SMH resource) and the namespace; refuses while resources exist unless forced. */
export async function uninstall(mgmt: ClusterClient, options: {force?: boolean} = {}): Promise<UninstallResult> {
  const remaining: string[] = []
  for (const kind of KIND_SCHEMAS) {
    let items: Record<string, unknown>[] = []
    try {
      items = await listSmhKind(mgmt, kind)
    } catch (error) {
      if (error instanceof UsageError) continue // that CRD is not there: nothing of this kind
      throw error
    }
    if (items.length) remaining.push(`${items.length} ${kind.kind}`)
  }
  if (remaining.length && !options.force) {
    throw new UsageError(`the management cluster "${mgmt.context}" still holds SMH resources (${remaining.join(', ')}): delete them (and deregister clusters, which removes what was generated in them) first, or pass --force to delete them with the CRDs`)
  }
  const removed: string[] = []
  try {
    for (const crd of crdManifests()) {
      if (await mgmt.deleteIfExists(crd)) removed.push(objectKey(crd))
    }
    // As kubectl delete waits by default: a CRD goes once the API server has removed its resources.
    const deadline = Date.now() + ESTABLISH_TIMEOUT_MS * 2
    for (const crd of crdManifests()) {
      while (await mgmt.readIfExists(crd)) {
        if (Date.now() > deadline) throw new SmhError(`cluster "${mgmt.context}": CRD ${crd.metadata.name} is still terminating after ${(ESTABLISH_TIMEOUT_MS * 2) / 1000}s: see kubectl get crd ${crd.metadata.name} -o yaml`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    const namespace = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: SMH_NAMESPACE}}
    if (await mgmt.deleteIfExists(namespace)) removed.push(objectKey(namespace))
  } catch (error) {
    throw mgmt.error(error)
  }
  return {context: mgmt.context, removed}
}
