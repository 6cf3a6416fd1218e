#!/usr/bin/env node
// A fleet of clusters as `kubectl get ... -A -o json` snapshots (issue 11): each cluster has Istio (istiod, an
// east-west gateway with a LoadBalancer address) and S services in namespace default, each with a v1 Deployment
// (2 pods) and a v2 Deployment (1 pod), every pod with a sidecar; as a live cluster lists them (Deployments,
// ReplicaSets, Pods, Services, ConfigMaps). Used by the CLI end-to-end benchmark (bench/cli.js) and the oracle's
// count of Envoy clusters (test/integration/oracle/fleet.test.ts).
//   node bench/fleet.js DIR CLUSTERS SERVICES   writes DIR/<cluster>.json and DIR/smh.yaml (VirtualMesh per mode)
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const PILOT_IMAGE = 'docker.io/istio/pilot:1.30.3'
const PROXY_IMAGE = 'docker.io/istio/proxyv2:1.30.3'
const T0 = '2026-01-01T00:00:00Z'

export const fleetClusterName = (i) => `fleet-${String(i + 1).padStart(2, '0')}`

/** One cluster's objects as a v1 List. `index` sets its addresses. */
export function fleetSnapshot(cluster, index, services) {
  const items = []
  let n = 0
  const ip = () => `10.${(index % 200) + 20}.${Math.floor(n / 250)}.${(n++ % 250) + 2}`
  const uid = (name) => `00000000-0000-4000-8000-${(Math.abs([...`${cluster}/${name}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7)) % 1e12).toString().padStart(12, '0')}`
  const workload = ({namespace, name, labels, serviceAccount, replicas, image, ports, sidecar}) => {
    const templateLabels = sidecar ? {...labels, 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': labels.app, 'service.istio.io/canonical-revision': labels.version ?? 'latest'} : labels
    const hash = uid(name).slice(-10).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)])
    const containers = [{name: name.split('-')[0], image, ports: ports.map((p) => ({containerPort: p}))}]
    const template = {metadata: {labels: templateLabels}, spec: {serviceAccountName: serviceAccount, containers}}
    items.push({apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace, uid: uid(name), labels}, spec: {replicas, selector: {matchLabels: labels}, template}, status: {replicas, readyReplicas: replicas}})
    const podLabels = {...templateLabels, 'pod-template-hash': hash}
    const rs = `${name}-${hash}`
    items.push({apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {name: rs, namespace, uid: uid(rs), labels: podLabels, ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name, uid: uid(name), controller: true}]},
      spec: {replicas, selector: {matchLabels: {...labels, 'pod-template-hash': hash}}, template: {...template, metadata: {labels: podLabels}}}, status: {replicas, readyReplicas: replicas}})
    const podContainers = sidecar ? [...containers, {name: 'istio-proxy', image: PROXY_IMAGE, args: ['proxy', 'sidecar']}] : containers
    for (let r = 0; r < replicas; r++) {
      const address = ip()
      items.push({apiVersion: 'v1', kind: 'Pod', metadata: {name: `${rs}-${'bcdfg'[r]}${hash.slice(0, 4)}`, namespace, labels: podLabels, ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: uid(rs), controller: true}]},
        spec: {...template.spec, containers: podContainers, nodeName: `${cluster}-node`},
        status: {phase: 'Running', podIP: address, podIPs: [{ip: address}], hostIP: `198.51.100.${(index % 250) + 2}`, startTime: T0,
          conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({type, status: 'True', lastTransitionTime: T0})),
          containerStatuses: podContainers.map((x) => ({name: x.name, image: x.image, imageID: '', ready: true, started: true, restartCount: 0, state: {running: {startedAt: T0}}}))}})
    }
  }
  items.push({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'istio', namespace: 'istio-system', labels: {'istio.io/rev': 'default'}}, data: {mesh: `trustDomain: ${cluster}\n`}})
  items.push({apiVersion: 'v1', kind: 'Service', metadata: {name: 'istiod', namespace: 'istio-system', labels: {app: 'istiod'}}, spec: {selector: {app: 'istiod', istio: 'pilot'}, ports: [{name: 'grpc-xds', port: 15010, protocol: 'TCP'}, {name: 'https-dns', port: 15012, protocol: 'TCP'}, {name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP'}]}})
  items.push({apiVersion: 'v1', kind: 'Service', metadata: {name: 'istio-eastwestgateway', namespace: 'istio-system', labels: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'}},
    spec: {type: 'LoadBalancer', selector: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'}, ports: [{name: 'status-port', port: 15021, protocol: 'TCP'}, {name: 'tls', port: 15443, protocol: 'TCP'}, {name: 'tls-istiod', port: 15012, protocol: 'TCP'}]},
    status: {loadBalancer: {ingress: [{ip: `172.18.${Math.floor(index / 250)}.${(index % 250) + 2}`}]}}})
  workload({namespace: 'istio-system', name: 'istiod', labels: {app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default'}, serviceAccount: 'istiod', replicas: 1, image: PILOT_IMAGE, ports: [8080, 15010, 15017], sidecar: false})
  workload({namespace: 'istio-system', name: 'istio-eastwestgateway', labels: {app: 'istio-eastwestgateway', istio: 'eastwestgateway'}, serviceAccount: 'istio-eastwestgateway-service-account', replicas: 1, image: PROXY_IMAGE, ports: [15021, 15443, 15012], sidecar: false})
  for (let i = 0; i < services; i++) {
    const app = `svc-${i}`
    items.push({apiVersion: 'v1', kind: 'Service', metadata: {name: app, namespace: 'default', labels: {app}}, spec: {selector: {app}, ports: [{name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP'}]}})
    for (const [version, replicas] of [['v1', 2], ['v2', 1]]) {
      workload({namespace: 'default', name: `${app}-${version}`, labels: {app, version}, serviceAccount: app, replicas, image: `docker.io/example/${app}-${version}:1.0`, ports: [8080], sidecar: true})
    }
  }
  return {apiVersion: 'v1', kind: 'List', metadata: {resourceVersion: ''}, items}
}

/** A VirtualMesh over the given meshes with the given federation (undefined: none written, SMH's permissive). */
export function fleetVirtualMesh(meshes, federation) {
  return {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'VirtualMesh', metadata: {name: 'fleet', namespace: 'service-mesh-hub'},
    spec: {meshes: meshes.map((name) => ({name, namespace: 'service-mesh-hub'})), ...(federation ? {federation} : {})}}
}

/**
 * What routes across clusters in the fleet, per cluster c: svc-0 fails over to the next cluster's svc-0 (a
 * FailoverService with outlier detection on both), and svc-1 shifts 10% to the next cluster's svc-1.
 */
export function fleetPolicies(clusters) {
  const API = 'networking.smh.solo.io/v1alpha2'
  const out = []
  clusters.forEach((cluster, c) => {
    const next = clusters[(c + 1) % clusters.length]
    const ref = (name, clusterName) => ({name, namespace: 'default', clusterName})
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `outlier-${cluster}`, namespace: 'service-mesh-hub'}, spec: {destinationSelector: [{kubeServiceRefs: {services: [ref('svc-0', cluster)]}}], outlierDetection: {consecutiveErrors: 3}}})
    out.push({apiVersion: API, kind: 'FailoverService', metadata: {name: `svc-0-${cluster}`, namespace: 'service-mesh-hub'}, spec: {hostname: `svc-0-${cluster}.default.global`, port: {number: 8080, protocol: 'http'}, meshes: [{name: `istiod-istio-system-${cluster}`}], backingServices: [{kubeService: ref('svc-0', cluster)}, {kubeService: ref('svc-0', next)}]}})
    out.push({apiVersion: API, kind: 'TrafficPolicy', metadata: {name: `shift-${cluster}`, namespace: 'service-mesh-hub'}, spec: {destinationSelector: [{kubeServiceRefs: {services: [ref('svc-1', cluster)]}}], trafficShift: {destinations: [{kubeService: ref('svc-1', cluster), weight: 90}, {kubeService: ref('svc-1', next), weight: 10}]}}})
  })
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, clusters = '12', services = '300'] = process.argv.slice(2)
  mkdirSync(dir, {recursive: true})
  const names = Array.from({length: Number(clusters)}, (_, i) => fleetClusterName(i))
  let bytes = 0
  names.forEach((name, i) => {
    const text = JSON.stringify(fleetSnapshot(name, i, Number(services)), null, 2)
    bytes += text.length
    writeFileSync(join(dir, `${name}.json`), text)
  })
  const meshes = names.map((n) => `istiod-istio-system-${n}`)
  for (const [mode, federation] of [['permissive', {permissive: {}}], ['on-demand', {onDemand: {}}]]) {
    writeFileSync(join(dir, `smh-${mode}.json`), JSON.stringify({apiVersion: 'v1', kind: 'List', items: [fleetVirtualMesh(meshes, federation), ...fleetPolicies(names)]}, null, 2))
  }
  console.log(`${names.length} snapshots, ${(bytes / 1e6).toFixed(1)} MB, in ${dir}`)
}
