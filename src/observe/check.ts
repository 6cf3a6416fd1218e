/**
 * `kubectl smh check` (issue 10), as `linkerd check` does it: one line per check, ✓ passed, ✗ failed (with the
 * fix), ! a warning, grouped by cluster. Pure: an Observation in, the lines out; any ✗ makes the command exit 1.
 */
import type {FailoverService, VirtualMesh} from '../api/types.js'
import {resourceId} from '../api/types.js'
import {reRegisterCommand} from '../kube/registry.js'
import {daysBetween, outlierFor, serviceHosts} from './describe.js'
import {type Observation, allMeshes, allServices, estimateOf} from './observation.js'

export type CheckState = 'ok' | 'fail' | 'warn'

export interface CheckLine {
  state: CheckState
  /** What was checked, and what was found. */
  title: string
  /** Why it failed, in one line. */
  detail?: string
  /** What to run or do. */
  fix?: string
}

export interface CheckGroup {
  /** `management (kind1)`, `cluster kind2`. */
  name: string
  checks: CheckLine[]
}

export interface CheckReport {
  groups: CheckGroup[]
  passed: number
  failed: number
  warnings: number
}

/** Intermediates are re-issued by sync within 30 days of expiry: fewer means sync has not run or could not. */
export const INTERMEDIATE_MIN_DAYS = 30
/** A stored token this close to expiry is a warning. */
export const TOKEN_WARN_DAYS = 14
/**
 * Outbound Envoy clusters per sidecar past which check warns. Istio's own scale test (istio.io, "Performance and
 * scalability") runs 1,000 services, and its guidance past that is to scope what each sidecar sees (Sidecar
 * resources, exportTo): a sidecar's memory and istiod's push time grow with every cluster it holds. Permissive
 * federation adds one per remote service port on every sidecar, so a fleet crosses this first.
 */
export const ENVOY_CLUSTERS_PER_SIDECAR_WARN = 1000

const ok = (title: string): CheckLine => ({state: 'ok', title})
const fail = (title: string, detail: string, fix: string): CheckLine => ({state: 'fail', title, detail, fix})
const warn = (title: string, detail: string, fix?: string): CheckLine => ({state: 'warn', title, detail, ...(fix ? {fix} : {})})

export function runChecks(observation: Observation, limits: {envoyClustersPerSidecar?: number} = {}): CheckReport {
  const groups: CheckGroup[] = [managementGroup(observation)]
  const envoyLimit = limits.envoyClustersPerSidecar ?? ENVOY_CLUSTERS_PER_SIDECAR_WARN
  if (!observation.mgmt.error) for (const cluster of observation.clusters) groups.push(clusterGroup(observation, cluster.name, envoyLimit))
  const lines = groups.flatMap((g) => g.checks)
  return {groups, passed: lines.filter((l) => l.state === 'ok').length, failed: lines.filter((l) => l.state === 'fail').length, warnings: lines.filter((l) => l.state === 'warn').length}
}

function managementGroup(o: Observation): CheckGroup {
  const context = o.mgmt.context
  const checks: CheckLine[] = []
  const group = {name: `management (${context})`, checks}
  if (o.mgmt.error && o.mgmt.crdsInstalled) {
    checks.push(fail('management cluster reachable', o.mgmt.error, `check --mgmt-context (now ${context}) and your kubeconfig: kubectl --context ${context} get ns`))
    return group
  }
  checks.push(ok('management cluster reachable'))
  if (!o.mgmt.crdsInstalled) {
    checks.push(fail('SMH CRDs installed', o.mgmt.error ?? 'missing', `kubectl smh install --mgmt-context ${context}`))
    return group
  }
  checks.push(ok('SMH CRDs installed'))
  checks.push(o.clusters.length ? ok(`${o.clusters.length} registered cluster${o.clusters.length === 1 ? '' : 's'}`)
    : warn('registered clusters', 'none registered', 'kubectl smh register cluster NAME --remote-context CONTEXT'))
  for (const invalid of o.invalid) checks.push(fail(`${invalid.id} is valid`, invalid.problems.join('; '), `fix it and apply again: kubectl smh apply -f FILE`))
  let allAccepted = true
  for (const stored of o.stored) {
    if (stored.kind === 'KubernetesCluster' || o.invalid.some((i) => i.id === stored.id)) continue
    const status = stored.status
    const now = o.statuses.find((s) => `${s.kind}/${s.namespace}/${s.name}` === stored.id)
    const title = `${stored.id} ACCEPTED at generation ${stored.generation ?? '?'}`
    if (!status?.state) {
      allAccepted = false
      checks.push(fail(title, 'never synced (no status)', 'kubectl smh sync'))
    } else if (status.state !== 'ACCEPTED') {
      allAccepted = false
      checks.push(fail(title, `${status.state}: ${(status.errors ?? []).join('; ')}`, now?.state === 'ACCEPTED' ? 'kubectl smh sync (it would be ACCEPTED now)' : `kubectl smh describe ${describeKindOf(stored.kind)} ${stored.name}, fix what the errors say, then kubectl smh sync`))
    } else if (status.observedGeneration !== stored.generation) {
      allAccepted = false
      checks.push(fail(title, `status is for generation ${status.observedGeneration ?? '?'}: changed since the last sync`, 'kubectl smh sync'))
    } else if (now && now.state !== 'ACCEPTED') {
      allAccepted = false
      checks.push(fail(title, `a sync now would make it ${now.state}: ${now.errors.join('; ')}`, `kubectl smh describe ${describeKindOf(stored.kind)} ${stored.name}, then fix what the errors say`))
    }
  }
  if (allAccepted) checks.push(ok('every SMH resource ACCEPTED at its current generation'))
  return group
}

const describeKindOf = (kind: string) => kind.toLowerCase()

function clusterGroup(o: Observation, name: string, envoyLimit: number): CheckGroup {
  const facts = o.clusters.find((c) => c.name === name)!
  const checks: CheckLine[] = []
  const group = {name: `cluster ${name}`, checks}
  const reRegister = reRegisterCommand(name, facts.remoteContext)
  if (facts.error) {
    checks.push(fail('reachable with its stored token', facts.error, /register cluster/.test(facts.error) ? reRegister : `check that ${facts.server ?? 'its API server'} answers, or ${reRegister}`))
    return group
  }
  if (facts.tokenExpires) {
    const days = daysBetween(o.now, facts.tokenExpires)
    if (days < 0) checks.push(fail('reachable with its stored token', `token expired ${facts.tokenExpires}`, reRegister))
    else if (days < TOKEN_WARN_DAYS) checks.push(warn(`reachable with its stored token (expires ${facts.tokenExpires})`, `${days} days left`, reRegister))
    else checks.push(ok(`reachable with its stored token (expires ${facts.tokenExpires}, ${days} days left)`))
  } else checks.push(ok('reachable with its stored token (no expiry recorded)'))
  if (facts.apiServerVersion) checks.push(ok(`API server ${facts.apiServerVersion}`))
  const estimate = estimateOf(o).find((e) => e.cluster === name)
  if (estimate && estimate.envoyClustersPerSidecar > envoyLimit) {
    checks.push(warn(`Envoy clusters per sidecar: about ${estimate.envoyClustersPerSidecar}, ${estimate.federatedEnvoyClusters} of them for ${estimate.federatedServices} federated services`,
      `past ${envoyLimit}, Istio's scale guidance asks to scope what each sidecar sees`,
      'federate what is used: kubectl smh create virtualmesh NAME --mesh ... --federation on-demand (or spec.federation: {onDemand: {}})'))
  } else if (estimate) checks.push(ok(`Envoy clusters per sidecar: about ${estimate.envoyClustersPerSidecar} (${estimate.federatedServices} federated services)`))

  const discovered = o.discovery.find((d) => d.cluster === name)
  const meshes = discovered?.meshes ?? []
  if (!meshes.length) checks.push(fail('Istio found', 'discovery found no istiod', 'install Istio there (istioctl install), then kubectl smh sync'))
  for (const mesh of meshes) {
    checks.push(ok(`Istio found: ${mesh.name} (${mesh.version}, trust domain ${mesh.trustDomain})`))
    if (!mesh.gateways.length) checks.push(warn(`${mesh.name}: gateway discovered`, 'no ingress gateway with a tls port: other clusters cannot reach its services', 'install an east-west/ingress gateway with a port named tls'))
    for (const gw of mesh.gateways) {
      checks.push(gw.externalAddress ? ok(`gateway ${gw.namespace}/${gw.serviceName} has an address (${gw.externalAddress}:${gw.externalTlsPort})`)
        : fail(`gateway ${gw.namespace}/${gw.serviceName} has an address`, 'no LoadBalancer ingress and no node address', `wait for its LoadBalancer address (kubectl --context ${name} -n ${gw.namespace} get svc ${gw.serviceName}), or make it a NodePort`))
    }
  }

  // Trust: this cluster's meshes in each virtual mesh.
  for (const vm of o.resources.filter((r): r is VirtualMesh => r.kind === 'VirtualMesh')) {
    const id = resourceId(vm)
    const trust = o.trust.find((t) => t.virtualMesh === id)
    const vmMeshes = allMeshes(o).filter((m) => vm.spec.meshes.some((r) => r.name === m.name))
    for (const mesh of vmMeshes.filter((m) => m.cluster === name)) {
      const ca = trust?.meshes.find((m) => m.mesh === mesh.name)
      const title = `${mesh.name}: cacerts chains to ${vm.metadata.name}'s root, valid > ${INTERMEDIATE_MIN_DAYS} days`
      if (!trust || !ca) checks.push(warn(title, 'not read'))
      else if (ca.error) checks.push(fail(title, `cacerts could not be read: ${ca.error}`, reRegister))
      else if (!ca.present) checks.push(fail(title, `no Secret cacerts in ${mesh.installationNamespace}: istiod signs with its own self-signed root, so ${name}'s workloads are not trusted by the other meshes`, 'kubectl smh sync (issues an intermediate from the virtual mesh\'s root; restart istiod and the gateways unless autoRestartPods)'))
      else if (trust.rootError) checks.push(fail(title, `the virtual mesh's root: ${trust.rootError}`, 'kubectl smh sync'))
      else if (ca.rootFingerprint !== trust.rootFingerprint || !ca.chainsToRoot) checks.push(fail(title, `its root-cert.pem ${ca.rootFingerprint ?? '(none)'} is not the virtual mesh's root ${trust.rootFingerprint}, or the intermediate is not signed by it`, 'kubectl smh sync (re-issues it)'))
      else if ((ca.daysLeft ?? 0) <= INTERMEDIATE_MIN_DAYS) checks.push(fail(title, `expires ${ca.notAfter} (${ca.daysLeft} days left)`, 'kubectl smh sync (re-issues intermediates with 30 days or less left)'))
      else checks.push(ok(`${mesh.name}: cacerts chains to ${vm.metadata.name}'s root (${shortFingerprint(trust.rootFingerprint)}), expires ${ca.notAfter} (${ca.daysLeft} days)`))
      const others = vmMeshes.filter((m) => m.name !== mesh.name && m.trustDomain !== mesh.trustDomain)
      const missing = others.filter((m) => !mesh.skipTrustDomainValidation && !mesh.trustDomainAliases.includes(m.trustDomain))
      if (missing.length) {
        checks.push(fail(`${mesh.name} accepts the trust domains of ${vm.metadata.name}`, `not in trustDomainAliases: ${missing.map((m) => m.trustDomain).join(', ')}`, 'kubectl smh sync (merges them into the mesh config), or run istiod with PILOT_SKIP_VALIDATE_TRUST_DOMAIN=true'))
      } else if (others.length) {
        checks.push(ok(`${mesh.name} accepts the trust domains of ${vm.metadata.name} (${mesh.skipTrustDomainValidation ? 'PILOT_SKIP_VALIDATE_TRUST_DOMAIN' : `aliases ${others.map((m) => m.trustDomain).join(', ')}`})`))
      }
    }
  }

  // Failover: backing services in this cluster.
  for (const fs of o.resources.filter((r): r is FailoverService => r.kind === 'FailoverService')) {
    for (const {kubeService: ref} of fs.spec.backingServices.filter((b) => b.kubeService.clusterName === name)) {
      const service = allServices(o).find((s) => s.cluster === name && s.namespace === ref.namespace && s.serviceName === ref.name)
      const label = `${fs.metadata.name}: backing ${ref.namespace}/${ref.name}`
      if (!service) {
        checks.push(fail(`${label} exists`, 'not discovered in a mesh', `kubectl smh describe failoverservice ${fs.metadata.name}`))
        continue
      }
      const outlier = outlierFor(o, name, serviceHosts(o, service).local)
      const setOutlier = `kubectl smh set outlier ${name}/${ref.namespace}/${ref.name} --max-ejection-percent 100`
      if (!outlier) checks.push(fail(`${label} has outlier detection`, 'no accepted TrafficPolicy gives it outlierDetection: failing endpoints are never ejected, so requests never fail over', setOutlier))
      else if (outlier.maxEjectionPercent !== 100) checks.push(fail(`${label} has outlier detection with maxEjectionPercent 100`, `maxEjectionPercent ${outlier.maxEjectionPercent ?? 'unset (Istio\'s default is 10)'}: most endpoints stay in the pool when they all fail`, setOutlier))
      else checks.push(ok(`${label} has outlier detection (maxEjectionPercent 100)`))
      const ep = o.endpoints[service.name]
      if (!ep?.ready) checks.push(fail(`${label} has ready endpoints`, `${ep?.ready ?? 0} of ${ep?.total ?? 0} pods ready`, `kubectl --context ${name} -n ${ref.namespace} get pods (look at why they are not ready)`))
      else checks.push(ok(`${label} has ready endpoints (${ep.ready}/${ep.total})`))
    }
  }

  // Generated objects: present, and no one else's fields in them.
  if (facts.live) {
    const wanted = new Set((o.objects[name] ?? []).map((x) => `${x.kind}/${x.metadata.namespace}/${x.metadata.name}`))
    const liveKeys = new Set(facts.live.map((l) => l.key))
    const missing = [...wanted].filter((k) => !liveKeys.has(k))
    if (missing.length) checks.push(fail(`generated objects in place (${wanted.size})`, `${missing.length} missing: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`, 'kubectl smh sync'))
    else checks.push(ok(`generated objects in place (${wanted.size})`))
    const changed = facts.live.filter((l) => l.otherManagers.length)
    if (changed.length) {
      checks.push(fail('no generated object changed by another field manager', changed.map((l) => `${l.key} by ${l.otherManagers.map((m) => m.manager).join(', ')}`).join('; '),
        'change the SMH resources instead; kubectl smh sync --force-conflicts takes the fields back'))
    } else checks.push(ok('no generated object changed by another field manager'))
  }
  return group
}

const shortFingerprint = (fp?: string) => (fp ? `${fp.slice(0, 11)}…` : '?')
