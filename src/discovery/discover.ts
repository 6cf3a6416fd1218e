import {parse as parseYaml} from 'yaml'

import {mapMatches} from './labels.js'
import {discoveredName, sanitizeName} from './naming.js'
import type {ClusterDiscovery, ControllerKind, DiscoveryOptions, KubeObject, Mesh, MeshGateway, MeshService, OwnerReference, ServicePort, Workload} from './types.js'

const DEFAULT_GATEWAY_SELECTORS = [{istio: 'eastwestgateway'}, {istio: 'ingressgateway'}]
const DEFAULT_GATEWAY_PORT_NAMES = ['tls']
/** Labels that vary between pods for reasons other than versions: never subsets. */
const NON_SUBSET_LABELS = new Set([
  'pod-template-hash', 'service.istio.io/canonical-revision', 'controller-revision-hash', 'pod-template-generation',
  'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index', 'rollouts-pod-template-hash',
  'controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name', 'batch.kubernetes.io/job-completion-index',
])
/** Controllers whose pod template the snapshot holds: their template gives the workload's labels and identity. */
const TEMPLATED_KINDS: string[] = ['Deployment', 'DaemonSet', 'StatefulSet']

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const byName = (a: {metadata: {name: string; namespace?: string}}, b: {metadata: {name: string; namespace?: string}}) =>
  `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`)

function imageTag(image: string): string {
  const at = image.indexOf('@')
  if (at >= 0) return image.slice(at + 1)
  const lastSlash = image.lastIndexOf('/')
  const colon = image.indexOf(':', lastSlash + 1)
  return colon >= 0 ? image.slice(colon + 1) : 'latest'
}

function containers(podSpec: any): {name?: string; image?: string; env?: {name?: string; value?: string}[]}[] {
  return [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])]
}

/** A sidecar: the container Istio injects (by name), or any Istio proxy image. */
function hasIstioProxy(podSpec: any): boolean {
  return containers(podSpec).some((c) => c.name === 'istio-proxy' || (typeof c.image === 'string' && c.image.includes('istio') && c.image.includes('proxy')))
}

export function isPilotDeployment(deployment: KubeObject): boolean {
  const name = deployment.metadata.name
  if (name !== 'istiod' && name !== 'istio-pilot' && !name.startsWith('istiod-')) return false
  return containers(deployment.spec?.template?.spec).some((c) => typeof c.image === 'string' && c.image.includes('pilot'))
}

/**
 * The mesh config istiod reads (`istio-<rev>` for a revision, else `istio`; key `mesh`, YAML), as discovery has
 * always looked it up: the first of those ConfigMaps that holds one.
 */
export function meshConfigOf(configMaps: KubeObject[], namespace: string, revision: string): {configMap: string; config: Record<string, unknown>} | undefined {
  const names = revision === 'default' ? ['istio'] : [`istio-${revision}`, 'istio']
  for (const name of names) {
    const configMap = configMaps.find((c) => c.metadata.name === name && c.metadata.namespace === namespace)
    const mesh = configMap?.data?.mesh
    if (!mesh) continue
    try {
      const config = parseYaml(mesh) as unknown
      return {configMap: name, config: config !== null && typeof config === 'object' && !Array.isArray(config) ? config as Record<string, unknown> : {}}
    } catch {
      // A mesh config we cannot read keeps Istio's defaults, as istiod itself would not start.
      return {configMap: name, config: {}}
    }
  }
  return undefined
}

function trustDomainOf(configMaps: KubeObject[], namespace: string, revision: string): string {
  const names = revision === 'default' ? ['istio'] : [`istio-${revision}`, 'istio']
  for (const name of names) {
    const configMap = configMaps.find((c) => c.metadata.name === name && c.metadata.namespace === namespace)
    const mesh = configMap?.data?.mesh
    if (!mesh) continue
    try {
      const config = parseYaml(mesh) as {trustDomain?: unknown} | null
      if (typeof config?.trustDomain === 'string' && config.trustDomain !== '') return config.trustDomain
    } catch {
      // A mesh config we cannot read keeps Istio's default trust domain, as istiod itself would not start.
    }
  }
  return 'cluster.local'
}

function trustDomainAliasesOf(config: Record<string, unknown> | undefined): string[] {
  const aliases = config?.trustDomainAliases
  return Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string' && a !== '') : []
}

/** Istio reads its bool env vars with Go's strconv.ParseBool (pkg/env/var.go). */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])

/** istiod's pilot container sets PILOT_SKIP_VALIDATE_TRUST_DOMAIN to true (pilot/pkg/features/security.go). */
function skipsTrustDomainValidation(pilot: {env?: {name?: string; value?: string}[]}): boolean {
  const value = pilot.env?.find((e) => e?.name === 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN')?.value
  return value !== undefined && GO_TRUE.has(value)
}

/** Istio Gateways (in the snapshot when it lists them) with an AUTO_PASSTHROUGH server, not generated by us. */
function passthroughServed(istioGateways: KubeObject[], labels: Record<string, string>, port: number): boolean {
  return istioGateways.some(
    (g) =>
      g.metadata.labels?.['app.kubernetes.io/managed-by'] !== 'kubectl-smh' &&
      mapMatches(g.spec?.selector, labels) &&
      (g.spec?.servers ?? []).some((s: any) => s?.tls?.mode === 'AUTO_PASSTHROUGH' && s?.port?.number === port && (s.hosts ?? []).some((h: string) => h === '*' || h === '*.local' || h === '*/*' || h === '*/*.local')),
  )
}

function gatewaysOf(services: KubeObject[], pods: KubeObject[], istioGateways: KubeObject[], options: Required<DiscoveryOptions>): MeshGateway[] {
  const found: {rank: number; gateway: MeshGateway}[] = []
  for (const service of services) {
    const selector: Record<string, string> | undefined = service.spec?.selector
    if (!selector) continue
    const rank = options.gatewaySelectors.findIndex((wanted) => Object.keys(wanted).length > 0 && mapMatches(wanted, selector))
    if (rank < 0) continue
    const tlsPort = (service.spec?.ports ?? []).find((p: any) => options.gatewayPortNames.includes(p.name))
    if (!tlsPort) continue
    const containerPort = typeof tlsPort.targetPort === 'number' ? tlsPort.targetPort : Number(tlsPort.targetPort ?? tlsPort.port)
    if (!Number.isInteger(containerPort)) continue // a named targetPort cannot be resolved without the pod spec port names
    const ingress = service.status?.loadBalancer?.ingress?.[0]
    let address: string | undefined
    let port: number | undefined
    let isHostname = false
    if (service.spec?.type === 'LoadBalancer' && (ingress?.ip || ingress?.hostname)) {
      address = ingress.ip || ingress.hostname
      isHostname = !ingress.ip
      port = tlsPort.port
    } else if ((service.spec?.type === 'NodePort' || service.spec?.type === 'LoadBalancer') && tlsPort.nodePort) {
      // Reached through a node: the node address of a gateway pod (kind nodes and local setups).
      const pod = pods
        .filter((p) => p.metadata.namespace === service.metadata.namespace && mapMatches(selector, p.metadata.labels) && p.status?.hostIP)
        .sort(byName)[0]
      if (pod) {
        address = pod.status.hostIP
        port = tlsPort.nodePort
      }
    }
    if (!address || !port) continue
    found.push({
      rank,
      gateway: {
        serviceName: service.metadata.name,
        namespace: service.metadata.namespace ?? 'default',
        workloadLabels: {...selector},
        externalAddress: address,
        externalAddressIsHostname: isHostname,
        externalTlsPort: port,
        tlsContainerPort: containerPort,
        hasPassthroughServer: passthroughServed(istioGateways, selector, containerPort),
      },
    })
  }
  return found
    .sort((a, b) => a.rank - b.rank || `${a.gateway.namespace}/${a.gateway.serviceName}`.localeCompare(`${b.gateway.namespace}/${b.gateway.serviceName}`))
    .map((f) => f.gateway)
}

/** The owner reference that manages an object (`controller: true`; an old object may not mark it). */
function controllerRef(object: KubeObject): OwnerReference | undefined {
  const owners = object.metadata.ownerReferences ?? []
  return owners.find((o) => o.controller === true) ?? owners.find((o) => o.controller !== false)
}

interface PodOwner {
  kind: ControllerKind
  name: string
}

const namespacedKey = (namespace: string | undefined, name: string) => `${namespace ?? 'default'}/${name}`

/**
 * Who a pod belongs to, as Istio sees a workload: follow its controller up through a ReplicaSet to whatever owns
 * that (a Deployment, an Argo Rollout, ...); a pod with no owner is a workload of its own. A ReplicaSet missing from
 * the snapshot (snapshots made before ReplicaSets were listed) is taken as `<deployment>-<pod-template-hash>` when
 * that Deployment exists, as discovery did before.
 */
function ownerOf(pod: KubeObject, replicaSets: Map<string, KubeObject>, deployments: Map<string, KubeObject>): PodOwner {
  const owner = controllerRef(pod)
  if (!owner) return {kind: 'Pod', name: pod.metadata.name}
  if (owner.kind !== 'ReplicaSet') return {kind: owner.kind, name: owner.name}
  const replicaSet = replicaSets.get(namespacedKey(pod.metadata.namespace, owner.name))
  if (replicaSet) {
    const above = controllerRef(replicaSet)
    return above ? {kind: above.kind, name: above.name} : {kind: 'ReplicaSet', name: owner.name}
  }
  const dash = owner.name.lastIndexOf('-')
  const guessed = dash > 0 ? owner.name.slice(0, dash) : ''
  if (guessed && deployments.has(namespacedKey(pod.metadata.namespace, guessed))) return {kind: 'Deployment', name: guessed}
  return {kind: 'ReplicaSet', name: owner.name}
}

/** The labels every one of these pods carries, with the same value: what a workload without a template shares. */
function commonLabels(pods: KubeObject[]): Record<string, string> {
  const [first, ...rest] = pods
  const common: Record<string, string> = {}
  for (const [key, value] of Object.entries(first?.metadata.labels ?? {})) {
    if (rest.every((pod) => pod.metadata.labels?.[key] === value)) common[key] = value
  }
  return common
}

function servicePorts(service: KubeObject): ServicePort[] {
  return (service.spec?.ports ?? []).map((p: any) => ({
    ...(p.name ? {name: p.name} : {}),
    port: p.port,
    protocol: p.protocol ?? 'TCP',
    ...(p.appProtocol ? {appProtocol: p.appProtocol} : {}),
    ...(p.targetPort === undefined ? {} : {targetPort: p.targetPort}),
  }))
}

/**
 * Meshes, workloads and services of one cluster from its objects (the kinds of `DISCOVERED_KINDS`, as
 * `SNAPSHOT_COMMAND` prints them). Pure: same objects, same result, in a stable order.
 */
export function discoverCluster(cluster: string, objects: KubeObject[], options: DiscoveryOptions = {}): ClusterDiscovery {
  const settings: Required<DiscoveryOptions> = {
    gatewaySelectors: options.gatewaySelectors ?? DEFAULT_GATEWAY_SELECTORS,
    gatewayPortNames: options.gatewayPortNames ?? DEFAULT_GATEWAY_PORT_NAMES,
  }
  const ofKind = (kind: string) => objects.filter((o) => o?.kind === kind && o.metadata?.name).sort(byName)
  const deployments = ofKind('Deployment')
  const pods = ofKind('Pod')
  const services = ofKind('Service')
  const configMaps = ofKind('ConfigMap')
  const istioGateways = ofKind('Gateway').filter((g) => g.apiVersion?.startsWith('networking.istio.io/'))

  const meshes: Mesh[] = deployments.filter(isPilotDeployment).map((istiod) => {
    const namespace = istiod.metadata.namespace ?? 'istio-system'
    const pilot = containers(istiod.spec?.template?.spec).find((c) => typeof c.image === 'string' && c.image.includes('pilot'))!
    const revision = istiod.metadata.labels?.['istio.io/rev'] ?? istiod.spec?.template?.metadata?.labels?.['istio.io/rev'] ?? 'default'
    return {
      name: discoveredName(istiod.metadata.name, namespace, cluster),
      cluster,
      installationNamespace: namespace,
      istiodName: istiod.metadata.name,
      version: imageTag(pilot.image!),
      revision,
      trustDomain: trustDomainOf(configMaps, namespace, revision),
      trustDomainAliases: trustDomainAliasesOf(meshConfigOf(configMaps, namespace, revision)?.config),
      skipTrustDomainValidation: skipsTrustDomainValidation(pilot),
      istiodServiceAccount: istiod.spec?.template?.spec?.serviceAccountName ?? 'default',
      podLabels: {...(istiod.spec?.selector?.matchLabels ?? {})},
      gateways: gatewaysOf(services, pods, istioGateways, settings),
    }
  })
  const istioNamespaces = new Set(meshes.map((m) => m.installationNamespace))
  const meshFor = (podLabels: Record<string, string> | undefined): Mesh | undefined => {
    const revision = podLabels?.['istio.io/rev']
    return meshes.find((m) => m.revision === revision) ?? meshes.find((m) => m.revision === 'default') ?? meshes[0]
  }

  const workloads: Workload[] = []
  // The labels of the sidecar pods of each workload: a Service backs onto a workload when it selects any of them.
  const sidecarPodLabels = new Map<Workload, Record<string, string>[]>()
  if (meshes.length > 0) {
    const replicaSets = new Map(ofKind('ReplicaSet').map((rs) => [namespacedKey(rs.metadata.namespace, rs.metadata.name), rs]))
    const deploymentsByName = new Map(deployments.map((d) => [namespacedKey(d.metadata.namespace, d.metadata.name), d]))
    const templated = new Map<string, KubeObject>()
    for (const kind of TEMPLATED_KINDS) for (const controller of ofKind(kind)) templated.set(`${kind}/${namespacedKey(controller.metadata.namespace, controller.metadata.name)}`, controller)
    const groups = new Map<string, {kind: ControllerKind; name: string; namespace: string; pods: KubeObject[]}>()
    for (const pod of pods) {
      const namespace = pod.metadata.namespace ?? 'default'
      if (istioNamespaces.has(namespace)) continue // istiod and the gateways are the mesh, not workloads in it
      const owner = ownerOf(pod, replicaSets, deploymentsByName)
      const key = `${owner.kind}/${namespacedKey(namespace, owner.name)}`
      const group = groups.get(key)
      if (group) group.pods.push(pod)
      else groups.set(key, {...owner, namespace, pods: [pod]})
    }
    // A controller whose template carries the sidecar (manual injection) is in the mesh even with no pods yet.
    for (const [key, controller] of templated) {
      const namespace = controller.metadata.namespace ?? 'default'
      if (!groups.has(key) && !istioNamespaces.has(namespace) && hasIstioProxy(controller.spec?.template?.spec)) {
        groups.set(key, {kind: controller.kind, name: controller.metadata.name, namespace, pods: []})
      }
    }
    const kindRank = (kind: string) => (TEMPLATED_KINDS.includes(kind) ? TEMPLATED_KINDS.indexOf(kind) : TEMPLATED_KINDS.length)
    const ordered = [...groups.entries()].sort(
      ([, a], [, b]) => kindRank(a.kind) - kindRank(b.kind) || compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name),
    )
    for (const [key, {kind, name, namespace, pods: owned}] of ordered) {
      const template = templated.get(key)?.spec?.template
      const withSidecar = owned.filter((pod) => hasIstioProxy(pod.spec))
      if (withSidecar.length === 0 && !hasIstioProxy(template?.spec)) continue
      // No template (a Rollout, a Job, bare pods: kinds the snapshot does not list): what all its pods share.
      const podLabels: Record<string, string> = {...(template?.metadata?.labels ?? commonLabels(owned))}
      const podSpec = template?.spec ?? owned[0]?.spec
      const workload: Workload = {
        name: sanitizeName(`${discoveredName(name, namespace, cluster)}-${kind.toLowerCase()}`),
        cluster,
        namespace,
        controllerKind: kind,
        controllerName: name,
        podLabels,
        serviceAccountName: podSpec?.serviceAccountName ?? podSpec?.serviceAccount ?? 'default',
        mesh: meshFor(podLabels)!.name,
      }
      workloads.push(workload)
      sidecarPodLabels.set(workload, withSidecar.map((pod) => pod.metadata.labels ?? {}))
    }
  }
  const selects = (selector: Record<string, string>, workload: Workload) =>
    mapMatches(selector, workload.podLabels) || sidecarPodLabels.get(workload)!.some((labels) => mapMatches(selector, labels))

  const meshServices: MeshService[] = []
  for (const service of services) {
    const selector: Record<string, string> | undefined = service.spec?.selector
    const namespace = service.metadata.namespace ?? 'default'
    if (!selector || Object.keys(selector).length === 0 || istioNamespaces.has(namespace)) continue
    const backing = workloads.filter((w) => w.namespace === namespace && selects(selector, w))
    const forced = service.metadata.annotations?.['discovery.smh.solo.io/enabled'] === 'true'
    if (backing.length === 0 && !(forced && meshes.length > 0)) continue
    const values = new Map<string, Set<string>>()
    for (const workload of backing) {
      for (const [key, value] of Object.entries(workload.podLabels)) {
        if (NON_SUBSET_LABELS.has(key)) continue
        values.set(key, (values.get(key) ?? new Set()).add(value))
      }
    }
    const subsets: Record<string, string[]> = {}
    for (const key of [...values.keys()].sort()) {
      const distinct = values.get(key)!
      // A key missing from some workloads also varies (absent vs present).
      if (distinct.size > 1 || (distinct.size === 1 && backing.some((w) => w.podLabels[key] === undefined))) subsets[key] = [...distinct].sort()
    }
    meshServices.push({
      name: discoveredName(service.metadata.name, namespace, cluster),
      cluster,
      namespace,
      serviceName: service.metadata.name,
      labels: {...(service.metadata.labels ?? {})},
      selector: {...selector},
      ports: servicePorts(service),
      subsets,
      mesh: backing[0]?.mesh ?? meshFor(undefined)!.name,
      workloads: backing.map((w) => w.name),
    })
  }
  return {cluster, meshes, workloads, services: meshServices}
}
