import {isPilotDeployment} from '../discovery/discover.js'
import {DISCOVERED_KINDS} from '../discovery/kinds.js'
import type {KubeObject} from '../discovery/types.js'
import type {ClusterClient} from './client.js'
import {isNotFound} from './errors.js'
import {listAll} from './list.js'

/**
 * One cluster's objects as discovery reads them: what `kubectl get <DISCOVERED_KINDS> -A -o yaml` prints, read
 * with paginated lists, every kind at once. The mesh config ConfigMaps are read by name in the namespaces where
 * an istiod runs, so the registered identity needs no right to read the cluster's other ConfigMaps.
 */
export async function readClusterObjects(client: ClusterClient): Promise<KubeObject[]> {
  const listed = await Promise.all(
    DISCOVERED_KINDS.filter((k) => k.scope === 'cluster').map((k) => listAll(client, k.apiVersion, k.kind).catch((error: unknown) => {
      // A cluster without Istio's CRDs has no Istio Gateways to read: that is an answer, not a failure.
      if (isNotFound(error) && k.group !== '' && k.group !== 'apps') return []
      throw error
    })),
  )
  const objects = listed.flat() as KubeObject[]
  // Discovery never reads who manages which field; on big clusters that bookkeeping is much of every object.
  for (const object of objects) delete (object.metadata as {managedFields?: unknown}).managedFields
  const meshConfigNames = new Set<string>()
  for (const deployment of objects) {
    if (deployment.kind !== 'Deployment' || !isPilotDeployment(deployment)) continue
    const namespace = deployment.metadata.namespace ?? 'istio-system'
    for (const name of meshConfigMapNames(deployment)) meshConfigNames.add(`${namespace}/${name}`)
  }
  const configMaps = await Promise.all([...meshConfigNames].sort().map(async (key) => {
    const [namespace, name] = key.split('/')
    const configMap = await client.readIfExists({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name, namespace}})
    return configMap ? ({apiVersion: 'v1', kind: 'ConfigMap', ...configMap} as KubeObject) : undefined
  }))
  for (const configMap of configMaps) if (configMap) objects.push(configMap)
  return objects
}

/** The ConfigMaps an istiod reads its mesh config from: `istio`, and `istio-<revision>` for a revision. */
export function meshConfigMapNames(istiod: KubeObject): string[] {
  const revision = istiod.metadata.labels?.['istio.io/rev'] ?? istiod.spec?.template?.metadata?.labels?.['istio.io/rev']
  return revision && revision !== 'default' ? ['istio', `istio-${revision}`] : ['istio']
}
