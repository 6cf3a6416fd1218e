/**
 * Pods made real: one network namespace per pod, its address the pod's `status.podIP` (a gateway also holds the
 * address its Service publishes), joined to the host by a veth pair with a /32 route each way. Everything we make
 * is named with a prefix so cleanup finds exactly ours: namespaces `smh-…`, links `smh…`.
 */
import {createHash} from 'node:crypto'
import {readdirSync} from 'node:fs'

import {NODE_ADDRESS, VIP_RANGES} from './addresses.js'
import {ipBatch, run} from './exec.js'

export const NETNS_PREFIX = 'smh-'
/** Host-side links: the node's link and one veth end per pod (at most 15 characters). */
export const LINK_PREFIX = 'smh'
export const NODE_LINK = 'smh0'

export interface PodNetwork {
  /** The network namespace (`ip netns` name). */
  netns: string
  /** The host's end of the veth pair; the pod's end is `eth0` inside the namespace. */
  hostLink: string
  /** The pod's addresses, its pod IP first. */
  addresses: string[]
}

/** Namespace and link names for a pod: readable namespace, hashed link (15 characters at most). */
export function podNetworkNames(cluster: string, namespace: string, pod: string): {netns: string; hostLink: string} {
  const hash = createHash('sha256').update(`${cluster}/${namespace}/${pod}`).digest('hex').slice(0, 8)
  return {netns: `${NETNS_PREFIX}${cluster}-${namespace}-${pod}`.slice(0, 200), hostLink: `${LINK_PREFIX}${hash}h`}
}

/**
 * The node's link holding NODE_ADDRESS, the host's address towards every pod. A veth pair whose both ends stay on
 * the host (these machines' kernels have no `dummy` link type); nothing is routed through it.
 */
export function createNodeLink(): void {
  ipBatch([`link add ${NODE_LINK} type veth peer name ${NODE_LINK}p`, `addr add ${NODE_ADDRESS}/32 dev ${NODE_LINK}`, `link set ${NODE_LINK}p up`, `link set ${NODE_LINK} up`])
}

/**
 * Creates the namespace, the veth pair and the routes. `peers` are every address of the data plane: the pod gets a
 * /32 route to each through the node (and the VIP ranges, which its capture always redirects), no default route.
 */
export function createPodNetwork(names: {netns: string; hostLink: string}, addresses: string[], peers: string[]): PodNetwork {
  const {netns, hostLink} = names
  const podLink = `${hostLink.slice(0, -1)}p`
  const [podIP] = addresses
  run('ip', ['netns', 'add', netns])
  ipBatch([
    `link add ${hostLink} type veth peer name ${podLink}`,
    `link set ${podLink} netns ${netns}`,
    `link set ${hostLink} up`,
    ...addresses.map((a) => `route add ${a}/32 dev ${hostLink} src ${NODE_ADDRESS}`),
  ])
  // Forward only what comes in on our own links (never what arrives on the host's other interfaces).
  run('sysctl', ['-q', '-w', `net.ipv4.conf.${hostLink}.forwarding=1`])
  ipBatch([
    'link set lo up',
    `link set ${podLink} name eth0`,
    ...addresses.map((a) => `addr add ${a}/32 dev eth0`),
    'link set eth0 up',
    `route add ${NODE_ADDRESS}/32 dev eth0 scope link src ${podIP}`,
    ...peers.filter((p) => !addresses.includes(p)).map((p) => `route add ${p}/32 via ${NODE_ADDRESS} dev eth0 src ${podIP}`),
    ...VIP_RANGES.map((r) => `route add ${r} via ${NODE_ADDRESS} dev eth0 src ${podIP}`),
  ], netns)
  run('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', 'net.ipv4.conf.eth0.forwarding=1'], {allowFail: true})
  return {netns, hostLink, addresses}
}

/** Our namespaces (by prefix). */
export function ourNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(NETNS_PREFIX)).sort()
  } catch {
    return []
  }
}

/** Our host links (by prefix): the node link and veth ends left behind. */
export function ourLinks(): string[] {
  const out = run('ip', ['-j', 'link', 'show'], {allowFail: true})
  try {
    return (JSON.parse(out || '[]') as {ifname: string}[]).map((l) => l.ifname).filter((n) => n.startsWith(LINK_PREFIX))
  } catch {
    return []
  }
}

/** Pids of the processes inside a namespace. */
export function pidsIn(netns: string): number[] {
  return run('ip', ['netns', 'pids', netns], {allowFail: true}).split('\n').map(Number).filter((n) => n > 0)
}

/**
 * Removes a namespace: its processes are killed first (a process keeps a namespace alive after `ip netns delete`),
 * which also removes the veth pair and the host's routes through it.
 */
export async function deletePodNetwork(netns: string): Promise<void> {
  const deadline = Date.now() + 5000
  for (let pids = pidsIn(netns); pids.length && Date.now() < deadline; pids = pidsIn(netns)) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  run('ip', ['netns', 'delete', netns], {allowFail: true})
}

/** Removes everything of ours: every `smh-` namespace (and its processes), every `smh` link. */
export async function deleteAllOurs(): Promise<{namespaces: string[]; links: string[]}> {
  const namespaces = ourNamespaces()
  await Promise.all(namespaces.map((ns) => deletePodNetwork(ns)))
  const links = ourLinks()
  for (const link of links) run('ip', ['link', 'delete', link], {allowFail: true})
  return {namespaces, links}
}
