import {type Schema} from './schema.js'

/** One schema problem: where (a JSON path such as `spec.trafficShift.destinations[0].weight`) and what was expected. */
export interface SchemaProblem {
  path: string
  message: string
}

/**
 * Checks a value against our OpenAPI subset and returns every problem, not just the first. Unknown fields are
 * problems too: the API server under Strict field validation rejects them, and they are usually typos.
 */
export function validateAgainstSchema(value: unknown, schema: Schema, path: string): SchemaProblem[] {
  const problems: SchemaProblem[] = []
  check(value, schema, path, problems)
  return problems
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`
  return `${typeof value} ${String(value)}`
}

function expected(schema: Schema): string {
  if (schema['x-smh-expect']) return schema['x-smh-expect']
  if (schema.enum) return `one of ${schema.enum.join(', ')}`
  switch (schema.type) {
    case 'object':
      return 'an object'
    case 'array':
      return 'a list'
    case 'integer':
      return 'an integer'
    case 'number':
      return 'a number'
    case 'boolean':
      return 'true or false'
    default:
      return 'a string'
  }
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`)

function check(value: unknown, schema: Schema, path: string, problems: SchemaProblem[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return
  const wrongType = (): void => {
    problems.push({path, message: `expected ${expected(schema)}, got ${describe(value)}`})
  }
  switch (schema.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return wrongType()
      const record = value as Record<string, unknown>
      for (const key of schema.required ?? []) {
        if (record[key] === undefined || record[key] === null) problems.push({path: join(path, key), message: 'is required'})
      }
      for (const group of schema['x-smh-one-of'] ?? []) {
        const set = group.filter((key) => record[key] !== undefined && record[key] !== null)
        if (set.length > 1) problems.push({path, message: `set only one of ${group.join(', ')} (found ${set.join(' and ')})`})
      }
      for (const [key, child] of Object.entries(record)) {
        if (child === null || child === undefined) continue
        const childSchema = schema.properties?.[key] ?? schema.additionalProperties
        if (childSchema) check(child, childSchema, join(path, key), problems)
        else if (!schema['x-kubernetes-preserve-unknown-fields']) {
          const known = Object.keys(schema.properties ?? {})
          problems.push({path: join(path, key), message: `unknown field${known.length ? ` (known fields: ${known.join(', ')})` : ''}`})
        }
      }
      return
    }
    case 'array': {
      if (!Array.isArray(value)) return wrongType()
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        problems.push({path, message: `needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`})
      }
      value.forEach((item, index) => check(item, schema.items ?? {}, `${path}[${index}]`, problems))
      return
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) return wrongType()
      if (schema.minimum !== undefined && value < schema.minimum) problems.push({path, message: `must be at least ${schema.minimum}, got ${value}`})
      if (schema.maximum !== undefined && value > schema.maximum) problems.push({path, message: `must be at most ${schema.maximum}, got ${value}`})
      return
    }
    case 'boolean':
      if (typeof value !== 'boolean') wrongType()
      return
    case 'string': {
      if (typeof value !== 'string') return wrongType()
      if (schema.enum && !schema.enum.includes(value)) return wrongType()
      if (schema.minLength !== undefined && value.length < schema.minLength) return void problems.push({path, message: 'must not be empty'})
      if (schema.pattern && !compiled(schema.pattern).test(value)) wrongType()
      return
    }
    default:
  }
}

const patterns = new Map<string, RegExp>()
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern)
  if (!regex) patterns.set(pattern, (regex = new RegExp(pattern)))
  return regex
}
