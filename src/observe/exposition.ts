/**
 * Prometheus text exposition format (version 0.0.4), as Envoy's `/stats/prometheus` and Istio's proxies serve it:
 * `# HELP` / `# TYPE` lines, samples `name{label="value",...} value [timestamp]`, label values with `\\`, `\"` and
 * `\n` escaped, values that may be `NaN`, `+Inf`, `-Inf`. Pure; no I/O.
 */
import type {Sample} from './stats-samples.js'

export class ExpositionError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`)
    this.name = 'ExpositionError'
  }
}

export interface ParseOptions {
  /**
   * Keep only samples whose metric name passes. A sidecar's exposition is hundreds of KB of which stats reads a few
   * metrics: lines of other names are skipped before their labels are parsed.
   */
  keep?: (name: string) => boolean
}

const isSpace = (c: number) => c === 32 || c === 9

/** Every sample of the text, in order. A malformed sample line throws an ExpositionError naming its line. */
export function parseExposition(text: string, options: ParseOptions = {}): Sample[] {
  const samples: Sample[] = []
  let lineNumber = 0
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    lineNumber++
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end)
    start = end + 1
    const sample = parseLine(line, lineNumber, options.keep)
    if (sample) samples.push(sample)
  }
  return samples
}

function parseLine(line: string, lineNumber: number, keep: ((name: string) => boolean) | undefined): Sample | undefined {
  let i = 0
  while (i < line.length && isSpace(line.charCodeAt(i))) i++
  // Blank lines and comments (# HELP, # TYPE and any other) carry no samples.
  if (i === line.length || line[i] === '#') return undefined
  const nameStart = i
  while (i < line.length && line[i] !== '{' && !isSpace(line.charCodeAt(i))) i++
  const name = line.slice(nameStart, i)
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new ExpositionError(`"${name}" is not a metric name`, lineNumber)
  if (keep && !keep(name)) return undefined
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    for (;;) {
      while (i < line.length && isSpace(line.charCodeAt(i))) i++
      if (line[i] === '}') {
        i++
        break
      }
      const labelStart = i
      while (i < line.length && line[i] !== '=' && !isSpace(line.charCodeAt(i))) i++
      const label = line.slice(labelStart, i)
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw new ExpositionError(`"${label}" is not a label name (metric ${name})`, lineNumber)
      while (i < line.length && isSpace(line.charCodeAt(i))) i++
      if (line[i] !== '=') throw new ExpositionError(`expected = after label ${label} (metric ${name})`, lineNumber)
      i++
      while (i < line.length && isSpace(line.charCodeAt(i))) i++
      if (line[i] !== '"') throw new ExpositionError(`expected a quoted value for label ${label} (metric ${name})`, lineNumber)
      i++
      let value = ''
      let chunk = i
      for (;;) {
        if (i >= line.length) throw new ExpositionError(`unterminated value of label ${label} (metric ${name})`, lineNumber)
        const c = line[i]
        if (c === '"') break
        if (c === '\\') {
          value += line.slice(chunk, i)
          const next = line[i + 1]
          // The format escapes exactly these three; anything else is kept as written.
          value += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`
          i += 2
          chunk = i
          continue
        }
        i++
      }
      value += line.slice(chunk, i)
      i++
      labels[label] = value
      while (i < line.length && isSpace(line.charCodeAt(i))) i++
      if (line[i] === ',') i++
      else if (line[i] !== '}') throw new ExpositionError(`expected , or } after label ${label} (metric ${name})`, lineNumber)
    }
  }
  const rest = line.slice(i).trim().split(/[ \t]+/)
  if (rest.length < 1 || rest[0] === '' || rest.length > 2) throw new ExpositionError(`expected a value and an optional timestamp after ${name}`, lineNumber)
  const value = parseValue(rest[0])
  if (value === undefined) throw new ExpositionError(`"${rest[0]}" is not a value (metric ${name})`, lineNumber)
  if (rest.length === 2 && !/^-?\d+$/.test(rest[1])) throw new ExpositionError(`"${rest[1]}" is not a timestamp in milliseconds (metric ${name})`, lineNumber)
  return {name, labels, value}
}

function parseValue(text: string): number | undefined {
  if (/^[+]?inf$/i.test(text)) return Number.POSITIVE_INFINITY
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY
  if (/^nan$/i.test(text)) return Number.NaN
  // Go's strconv.ParseFloat forms Prometheus writes: 12, 1.5, 1e+06, -0.25.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined
  return Number(text)
}
