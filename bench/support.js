// What the benchmarks share: figures (median, formatting, load) and local control planes that are always stopped and
// removed, also on Ctrl-C. Each bench imports from ../dist, so run `npm run build` first.
import {mkdtempSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'

export const median = (xs) => {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Seconds since a process.hrtime.bigint() reading. */
export const since = (start) => Number(process.hrtime.bigint() - start) / 1e9

/** `412 ms` under a second, `2.35 s` above. */
export const fmtSeconds = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`)

/** The load average and core count, so a reader can weigh the figures against the machine's noise. */
export const machineLoad = () => `load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`

/**
 * Starts local control planes for `clusters` (etcd + one kube-apiserver each, Istio's CRDs), runs `fn(plane)`, and
 * stops them and removes their folder however `fn` ends, Ctrl-C included. Returns what `fn` returns.
 */
export async function withControlPlanes(name, clusters, fn) {
  const {startControlPlanes} = await import('../dist/controlplane/control-plane.js')
  const {istioCrdsFile} = await import('../dist/services/demo/index.js')
  const dir = mkdtempSync(join(tmpdir(), `smh-bench-${name}-`))
  let plane
  const stop = async () => {
    await plane?.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  const onInterrupt = () => void stop().finally(() => process.exit(130))
  process.once('SIGINT', onInterrupt)
  try {
    plane = await startControlPlanes({clusters, dir, crdsFile: istioCrdsFile()})
    return await fn(plane, dir)
  } finally {
    process.off('SIGINT', onInterrupt)
    await stop()
  }
}
