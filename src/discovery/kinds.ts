/**
 * The kinds discovery reads, in one place: the live path lists exactly these from each registered cluster, the
 * registration grants read access to exactly these, and the `kubectl get` line that makes a `translate --snapshot`
 * file names exactly these.
 */
export interface DiscoveredKind {
  apiVersion: string
  kind: string
  /** The API resource (plural), as RBAC and `kubectl get` name it. */
  resource: string
  /** The API group ('' for core), as RBAC names it. */
  group: string
  /**
   * `cluster`: listed in every namespace. `istio`: only read in the namespaces where an istiod runs (the mesh
   * config ConfigMaps), so the registered identity cannot read every ConfigMap of the cluster.
   */
  scope: 'cluster' | 'istio'
}

export const DISCOVERED_KINDS: readonly DiscoveredKind[] = [
  {apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments', group: 'apps', scope: 'cluster'},
  {apiVersion: 'apps/v1', kind: 'DaemonSet', resource: 'daemonsets', group: 'apps', scope: 'cluster'},
  {apiVersion: 'apps/v1', kind: 'StatefulSet', resource: 'statefulsets', group: 'apps', scope: 'cluster'},
  {apiVersion: 'apps/v1', kind: 'ReplicaSet', resource: 'replicasets', group: 'apps', scope: 'cluster'},
  {apiVersion: 'v1', kind: 'Pod', resource: 'pods', group: '', scope: 'cluster'},
  {apiVersion: 'v1', kind: 'Service', resource: 'services', group: '', scope: 'cluster'},
  {apiVersion: 'networking.istio.io/v1', kind: 'Gateway', resource: 'gateways.networking.istio.io', group: 'networking.istio.io', scope: 'cluster'},
  {apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps', group: '', scope: 'istio'},
]

/** What a user runs to make a `translate --snapshot` file from a live cluster. */
export const SNAPSHOT_COMMAND = `kubectl get ${DISCOVERED_KINDS.map((k) => k.resource).join(',')} -A -o yaml`
