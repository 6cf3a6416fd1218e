/**
 * Service Mesh Hub's proto field names. SMH 0.9.0–0.9.1 read its resources through protobuf's JSON mapping, which
 * takes a field's proto name (`destination_selector`) as well as its JSON name (`destinationSelector`), and SMH's
 * own OSM guide writes the proto names. We accept both and normalise to the JSON (camelCase) names that our schema,
 * validator and CRDs use. The mapping comes from the schema itself: a snake_case key is renamed when its camelCase
 * form is a property of the schema at that place, so map keys (labels, subsets) and unknown fields stay as written.
 */
import type {Schema} from './schema.js'

/** One field written in its proto spelling and renamed. `path` is where it is, with the parents already renamed. */
export interface SpellingRename {
  /** `spec.destinationSelector[0]`: the parent, in JSON names ('' for the top). */
  parent: string
  from: string
  to: string
  /** The path to the field as written in the file (for its line). */
  writtenPath: (string | number)[]
}

/** The same field written in both spellings in one object: ambiguous, so the user keeps one. */
export interface SpellingClash {
  parent: string
  snake: string
  camel: string
  writtenPath: (string | number)[]
}

export interface Normalized {
  value: unknown
  renames: SpellingRename[]
  clashes: SpellingClash[]
  /** Maps a path in JSON names (`spec.destinationSelector[0]...`, as segments) back to the path as written. */
  writtenPathOf: (path: (string | number)[]) => (string | number)[]
}

const snakeToCamel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

const segmentsToString = (base: string, segments: (string | number)[]) =>
  segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : path === '' ? s : `${path}.${s}`), base)

/**
 * Returns `value` with every proto-spelled key renamed to its schema name (a copy; `value` is not changed), what was
 * renamed, and the fields given in both spellings (those keep the camelCase value). `base` names the value in
 * messages (`spec`).
 */
export function normalizeSpelling(value: unknown, schema: Schema, base: string): Normalized {
  const renames: SpellingRename[] = []
  const clashes: SpellingClash[] = []
  // JSON path (as a string) of each renamed key → the key as written.
  const written = new Map<string, string>()
  const walk = (node: unknown, nodeSchema: Schema | undefined, path: (string | number)[], writtenPath: (string | number)[]): unknown => {
    if (!nodeSchema || node === null || typeof node !== 'object') return node
    if (Array.isArray(node)) return node.map((item, i) => walk(item, nodeSchema.items, [...path, i], [...writtenPath, i]))
    const properties = nodeSchema.properties
    const out: Record<string, unknown> = {}
    const record = node as Record<string, unknown>
    for (const [key, child] of Object.entries(record)) {
      const camel = key.includes('_') ? snakeToCamel(key) : key
      const renamed = camel !== key && properties?.[camel] !== undefined
      const name = renamed ? camel : key
      if (renamed) {
        const parent = segmentsToString(base, path)
        if (Object.hasOwn(record, camel)) {
          clashes.push({parent, snake: key, camel, writtenPath: [...writtenPath, key]})
          continue // the camelCase one stays; the clash is an error anyway
        }
        renames.push({parent, from: key, to: camel, writtenPath: [...writtenPath, key]})
        written.set(JSON.stringify([...path, camel]), key)
      }
      // Maps (labels, subsets) have no properties: their keys are the user's data, never renamed.
      const childSchema = properties?.[name] ?? (properties ? undefined : nodeSchema.additionalProperties)
      out[name] = childSchema?.properties || childSchema?.items ? walk(child, childSchema, [...path, name], [...writtenPath, key]) : child
    }
    return out
  }
  const normalized = walk(value, schema, [], [])
  return {
    value: normalized,
    renames,
    clashes,
    writtenPathOf: (path) => path.map((segment, i) => (typeof segment === 'string' ? (written.get(JSON.stringify(path.slice(0, i + 1))) ?? segment) : segment)),
  }
}
