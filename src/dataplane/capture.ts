/**
 * Traffic capture as Istio's istio-init sets it up (notes/dataplane.md §1: `istio-iptables -p 15001 -z 15006 -u 1337
 * -m REDIRECT -i '*' -b '*' -d 15090,15021,15020`): inbound TCP → 15006, outbound TCP → 15001, the proxy's own
 * uid/gid 1337 excluded. Applied inside the pod's namespace with iptables-restore (Debian's `iptables`). The filter
 * table adds one thing Istio does not need: what is still addressed to a VIP after capture (only the proxy's own
 * traffic can be) is rejected, so nothing we send leaves through the host.
 */
import {SmhError} from '../errors.js'
import {VIP_RANGES} from './addresses.js'
import {run, which} from './exec.js'

export const PROXY_UID = 1337
export const OUTBOUND_PORT = 15001
export const INBOUND_PORT = 15006
/** Ports inbound capture leaves alone: Prometheus stats, health, the agent. */
export const INBOUND_EXCLUDED = [15090, 15021, 15020]

/** The iptables-restore input for one sidecar's namespace. */
export function captureRules(uid = PROXY_UID): string {
  const owner = (flag: string) => [
    `-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --${flag}-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --${flag}-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --${flag}-owner ${uid} -j RETURN`,
  ]
  return [
    '*nat',
    ':ISTIO_INBOUND - [0:0]', ':ISTIO_REDIRECT - [0:0]', ':ISTIO_IN_REDIRECT - [0:0]', ':ISTIO_OUTPUT - [0:0]',
    '-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN',
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${OUTBOUND_PORT}`,
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${INBOUND_PORT}`,
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    ...INBOUND_EXCLUDED.map((p) => `-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`),
    '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
    '-A OUTPUT -j ISTIO_OUTPUT',
    '-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN',
    ...owner('uid'),
    ...owner('gid'),
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
    '-A ISTIO_OUTPUT -j ISTIO_REDIRECT',
    'COMMIT',
    ...guardRules(),
  ].join('\n') + '\n'
}

/** For gateways (no capture): only the guard. */
export function guardRules(): string[] {
  return ['*filter', ...VIP_RANGES.map((r) => `-A OUTPUT -d ${r} -j REJECT`), 'COMMIT']
}

export function requireIptables(): string {
  const path = which('iptables-restore')
  if (!path) throw new SmhError('iptables not found: install Debian\'s iptables (`apt-get install -y iptables`) to run the data plane')
  return path
}

/** Applies rules inside a namespace (replacing its tables: the namespace is ours and new). */
export function applyRules(netns: string, rules: string): void {
  run('ip', ['netns', 'exec', netns, requireIptables()], {input: rules})
}

/** A namespace's nat table as `iptables -t nat -S` prints it. */
export function natRules(netns: string): string {
  return run('ip', ['netns', 'exec', netns, 'iptables', '-t', 'nat', '-S'])
}
