/**
 * Label selectors as kubectl takes them (`-l`): `app=productpage,version in (v1,v2)`, `tier!=db`, `env`, `!canary`,
 * `version notin (v3)`, `app==x`. client-node has no parser for them (it sends the string to the API server), and
 * stats applies the selector to pods it already holds, so this is a small parser with Kubernetes' own grammar
 * (k8s.io/apimachinery/pkg/labels: comma-separated requirements, set operators with parenthesised values).
 */
import {UsageError} from '../errors.js'

export type Requirement =
  | {key: string; op: 'in' | 'notin'; values: string[]}
  | {key: string; op: 'exists' | '!exists'}

export type LabelSelector = Requirement[]

// A qualified name with an optional DNS prefix (`app`, `app.kubernetes.io/name`), and label values.
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/
const VALUE = /^([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?$/

/** Parses a selector; an invalid one is a UsageError naming the flag and the part that is wrong. */
export function parseLabelSelector(text: string, flag = '--source'): LabelSelector {
  const bad = (why: string) => new UsageError(`${flag} "${text}": ${why}: use kubectl's selector syntax, e.g. app=productpage,version in (v1)`)
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const c of text) {
    if (c === '(') depth++
    if (c === ')') depth--
    if (depth < 0) throw bad('unbalanced )')
    if (c === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += c
  }
  if (depth !== 0) throw bad('unbalanced (')
  parts.push(current)
  if (text.trim() === '') return []
  return parts.map((raw) => {
    const part = raw.trim()
    if (part === '') throw bad('an empty requirement')
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part)
    if (set) {
      const [, key, op, list] = set
      const values = list.split(',').map((v) => v.trim())
      if (!KEY.test(key)) throw bad(`"${key}" is not a label key`)
      for (const v of values) if (!VALUE.test(v)) throw bad(`"${v}" is not a label value`)
      return {key, op: op as 'in' | 'notin', values}
    }
    const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part)
    if (equality) {
      const [, key, op, value] = equality
      if (!KEY.test(key)) throw bad(`"${key}" is not a label key`)
      if (!VALUE.test(value)) throw bad(`"${value}" is not a label value`)
      return {key, op: op === '!=' ? 'notin' : 'in', values: [value]}
    }
    const exists = /^(!?)\s*(\S+)$/.exec(part)
    if (exists && KEY.test(exists[2])) return {key: exists[2], op: exists[1] ? '!exists' : 'exists'}
    throw bad(`"${part}" is not a requirement`)
  })
}

/** Whether labels satisfy every requirement (`notin` and `!=` also hold when the key is absent, as in Kubernetes). */
export function matchesSelector(selector: LabelSelector, labels: Record<string, string>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key)
    switch (r.op) {
      case 'exists': return has
      case '!exists': return !has
      case 'in': return has && r.values.includes(labels[r.key])
      case 'notin': return !has || !r.values.includes(labels[r.key])
    }
  })
}
