/**
 * The data plane's addresses: every pod and gateway address is one it assigns itself inside a namespace it made,
 * reached only over its own links. Before anything is created, no address may be the host's own or sit in a
 * route the host has other than its default; after, every address must resolve (`ip route get`) to its own link.
 */
import {SmhError} from '../errors.js'
import {run} from './exec.js'

/** The host's side of every pod link ("the node"): on a link of ours, the source of host → pod traffic. */
export const NODE_ADDRESS = '10.244.0.1'
/** Service VIPs (the API servers' --service-cluster-ip-range) and ServiceEntry VIPs (240.0.0.0/4): always captured. */
export const VIP_RANGES = ['10.96.0.0/16', '240.0.0.0/4']

export interface RouteCheck {
  address: string
  device?: string
  type: string
}

/** What the kernel would do with a packet to address: `ip -j route get`. */
export function routeOf(address: string): RouteCheck {
  const out = run('ip', ['-j', 'route', 'get', address], {allowFail: true})
  try {
    const [route] = JSON.parse(out) as {dev?: string; type?: string}[]
    return {address, device: route?.dev, type: route?.type ?? 'unicast'}
  } catch {
    return {address, type: 'unreachable'}
  }
}

/** The host's default route's device (eth0 here), if any. */
function defaultDevice(): string | undefined {
  const out = run('ip', ['-j', 'route', 'show', 'default'], {allowFail: true})
  try {
    return (JSON.parse(out) as {dev?: string}[])[0]?.dev
  } catch {
    return undefined
  }
}

/**
 * Before start: an address the host owns (local) or routes anywhere but through its default route (a network it
 * is on, a route someone added) would clash; refuse with one line naming the first.
 */
export function checkAddressesFree(addresses: string[]): void {
  const fallback = defaultDevice()
  for (const address of addresses) {
    const route = routeOf(address)
    if (route.type === 'local') throw new SmhError(`data plane: ${address} is one of this host's own addresses (on ${route.device}): the demo's addresses must be off the host's networks`)
    if (route.device && route.device !== fallback) {
      throw new SmhError(`data plane: ${address} is already routed through ${route.device} on this host (\`ip route get ${address}\`): stop whatever uses it (another data plane? \`kubectl smh demo down\`) and try again`)
    }
    const onLink = run('ip', ['-j', 'route', 'show', 'match', address], {allowFail: true})
    const specific = (JSON.parse(onLink || '[]') as {dst: string; dev?: string}[]).filter((r) => r.dst !== 'default')
    if (specific.length) throw new SmhError(`data plane: ${address} is in ${specific[0].dst} on ${specific[0].dev}, a network of this host: the demo's addresses must be off the host's networks`)
  }
}

/** After start: every address must resolve to the link made for it; otherwise nothing may be sent. */
export function checkAddressesRouted(expected: {address: string; link: string}[]): void {
  for (const {address, link} of expected) {
    const route = routeOf(address)
    if (route.device !== link) {
      throw new SmhError(`data plane: \`ip route get ${address}\` resolves to ${route.device ?? route.type}, not to its own link ${link}: refusing to start (nothing of ours may leave this host)`)
    }
  }
}
