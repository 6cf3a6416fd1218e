/**
 * A minimal static Envoy config for a pod, for tests and until Istio's generated config is plugged in: inbound
 * 15006 → the app on 127.0.0.1, outbound 15001 → a Service VIP's pods (round robin) or else the original
 * destination, and Istio's Prometheus listener on 15090. HTTP everywhere, so Envoy's stats count requests.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {ADMIN_PORT, STATS_PORT} from './proxy.js'
import {INBOUND_PORT, OUTBOUND_PORT} from './capture.js'
import type {DataPlanePod, DataPlaneService} from './topology.js'

const ROUTER = {name: 'envoy.filters.http.router', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router'}}
const ORIGINAL_DST = {name: 'envoy.filters.listener.original_dst', typed_config: {'@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst'}}

function hcm(statPrefix: string, cluster: string, prefix = '/', rewrite?: string) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: statPrefix,
      route_config: {name: statPrefix, virtual_hosts: [{name: statPrefix, domains: ['*'], routes: [{match: {prefix}, route: {cluster, ...(rewrite ? {prefix_rewrite: rewrite} : {})}}]}]},
      http_filters: [ROUTER],
    },
  }
}

const address = (ip: string, port: number) => ({socket_address: {address: ip, port_value: port}})
const staticCluster = (name: string, endpoints: [string, number][]) => ({
  name, type: 'STATIC', connect_timeout: '1s', lb_policy: 'ROUND_ROBIN',
  load_assignment: {cluster_name: name, endpoints: [{lb_endpoints: endpoints.map(([ip, port]) => ({endpoint: {address: address(ip, port)}}))}]},
})

/** The bootstrap for one pod, given the Services of its cluster (VIPs and their pods). */
export function minimalBootstrap(pod: DataPlanePod, services: DataPlaneService[]): Record<string, unknown> {
  const fqdn = (s: DataPlaneService) => `${s.name}.${s.namespace}.svc.cluster.local`
  const prometheus = {
    name: `0.0.0.0_${STATS_PORT}`, address: address('0.0.0.0', STATS_PORT),
    filter_chains: [{filters: [hcm('stats', 'prometheus_stats', '/stats/prometheus')]}],
  }
  const clusters: Record<string, unknown>[] = [staticCluster('prometheus_stats', [['127.0.0.1', ADMIN_PORT]])]
  const listeners: Record<string, unknown>[] = [prometheus]
  if (pod.kind === 'sidecar') {
    const outboundChains = services.filter((s) => s.vip).flatMap((s) => s.ports.map((p) => {
      const name = `outbound|${p.port}||${fqdn(s)}`
      clusters.push(staticCluster(name, s.endpoints.map((ip) => [ip, p.targetPort])))
      return {filter_chain_match: {prefix_ranges: [{address_prefix: s.vip, prefix_len: 32}], destination_port: p.port}, filters: [hcm(`outbound_${s.vip}_${p.port}`, name)]}
    }))
    clusters.push({name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '1s'})
    listeners.push({
      name: 'virtualOutbound', address: address('0.0.0.0', OUTBOUND_PORT), listener_filters: [ORIGINAL_DST],
      filter_chains: outboundChains, default_filter_chain: {filters: [hcm('outbound_passthrough', 'PassthroughCluster')]},
    })
    const inboundChains = pod.ports.map((port) => {
      const name = `inbound|${port}||`
      clusters.push(staticCluster(name, [['127.0.0.1', port]]))
      return {filter_chain_match: {destination_port: port}, filters: [hcm(`inbound_0.0.0.0_${port}`, name)]}
    })
    listeners.push({name: 'virtualInbound', address: address('0.0.0.0', INBOUND_PORT), listener_filters: [ORIGINAL_DST], filter_chains: inboundChains})
  }
  return {
    node: {id: `${pod.kind === 'sidecar' ? 'sidecar' : 'router'}~${pod.addresses[0]}~${pod.name}.${pod.namespace}~${pod.namespace}.svc.cluster.local`, cluster: `${pod.app}.${pod.namespace}`},
    admin: {address: address('127.0.0.1', ADMIN_PORT)},
    static_resources: {listeners, clusters},
  }
}

/** A config provider (see startDataPlane) that writes the minimal bootstrap into the pod's config folder. */
export async function minimalConfig(pod: DataPlanePod, context: {configDir: string; services: DataPlaneService[]}): Promise<void> {
  mkdirSync(context.configDir, {recursive: true})
  writeFileSync(join(context.configDir, 'bootstrap.json'), JSON.stringify(minimalBootstrap(pod, context.services.filter((s) => s.cluster === pod.cluster)), null, 2))
}
