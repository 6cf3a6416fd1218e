/**
 * A minimal parse of Prometheus exposition text (`/stats/prometheus`), for tests that compare what Prometheus
 * stored with what a proxy served. Stand-in until the stats command's parseExposition (src/observe/exposition.ts)
 * lands; then tests use that. Handles what Envoy and Istio's proxies write: comments, `name{l="v",...} value`,
 * escaped `\\`, `\"`, `\n` in label values, NaN and ±Inf.
 */
import type {Sample} from '../../src/observe/stats-samples.js'

export function parseExpositionText(text: string, names?: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    if (names && !names.has(m[1])) continue
    const labels: Record<string, string> = {}
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy
    for (let l = re.exec(m[3] ?? ''); l; l = re.exec(m[3] ?? '')) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    const v = m[4]
    const value = /^\+?inf$/i.test(v) ? Infinity : /^-inf$/i.test(v) ? -Infinity : /^nan$/i.test(v) ? Number.NaN : Number(v)
    samples.push({name: m[1], labels, value})
  }
  return samples
}
