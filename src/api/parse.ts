import {type Document, LineCounter, isMap, isNode, isScalar, parseAllDocuments} from 'yaml'

import {kindSchema} from './schema.js'
import {normalizeSpelling} from './spelling.js'
import {MULTICLUSTER_API_VERSION, NETWORKING_API_VERSION, SMH_NAMESPACE, type SmhResource, resourceId} from './types.js'
import {validateAgainstSchema} from './validate.js'

/** Where an input object came from, for messages: `file:line`. */
export interface Origin {
  file: string
  line: number
}

export interface ParsedObject {
  object: Record<string, unknown>
  origin: Origin
  /** Resolves a JSON path (`spec.port.number`) to the line it is on, when the YAML source is known. */
  lineOf: (path: (string | number)[]) => number | undefined
  /** The line of the key of a field (`destination_selector:`), where a block value starts on the next line. */
  keyLineOf?: (path: (string | number)[]) => number | undefined
}

/** One thing wrong with the input: where, which resource, which field, and what to do. */
export interface InputProblem {
  file?: string
  line?: number
  resource?: string
  path?: string
  message: string
}

/** Something we changed in the input and the user may want to change too (a proto field name we normalised). */
export interface InputNote {
  file: string
  line?: number
  resource: string
  message: string
}

/** `file:line: Kind/namespace/name: spec.destination_selector → destinationSelector` */
export function formatNote(note: InputNote): string {
  return `${note.file}${note.line ? `:${note.line}` : ''}: ${note.resource}: ${note.message}`
}

export function formatProblem(problem: InputProblem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ''}: ` : ''
  const what = problem.resource ? `${problem.resource}: ` : ''
  const field = problem.path ? `${problem.path}: ` : ''
  return `${where}${what}${field}${problem.message}`
}

/**
 * Parses a YAML or JSON text holding one or more documents (`---`), each an object or a `kind: List`. Syntax errors
 * are reported with file and line, and parsing goes on with the other documents so that every problem is listed.
 */
export function parseDocuments(text: string, file: string): {objects: ParsedObject[]; problems: InputProblem[]} {
  // JSON (kubectl get -o json, our own -o json) is read as JSON: several times faster than as flow YAML and without a
  // syntax tree. Lines are only needed for messages: the text is parsed as YAML for them when one is asked for.
  const first = text.match(/^\s*(\S)/)?.[1]
  if (first === '{' || first === '[') {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      value = undefined // not one JSON text (a syntax error, or YAML flow style): the YAML parser says where
    }
    if (value !== undefined) return jsonDocuments(value, text, file)
  }
  return yamlDocuments(text, file)
}

/** Where things are in one parsed document: what line numbers come from. */
interface LineSource {
  doc: Document
  lineCounter: LineCounter
}

/**
 * Line lookups for one document, each working out its source (a YAML parse with a LineCounter) only when first
 * asked: most inputs need no line at all, and then that parse never happens.
 */
function lazyLines(file: string, source: () => LineSource) {
  const lineOf = (prefix: (string | number)[]) => (path: (string | number)[]) => {
    const {doc, lineCounter} = source()
    const node = doc.getIn([...prefix, ...path], true)
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined
  }
  const keyLineOf = (prefix: (string | number)[]) => (path: (string | number)[]) => {
    const {doc, lineCounter} = source()
    const parent = path.length ? doc.getIn([...prefix, ...path.slice(0, -1)], true) : undefined
    const pair = isMap(parent) ? parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === path.at(-1)) : undefined
    return isNode(pair?.key) && pair.key.range ? lineCounter.linePos(pair.key.range[0]).line : lineOf(prefix)(path)
  }
  let docLineValue: number | undefined
  const docLine = () => {
    if (docLineValue === undefined) {
      const {doc, lineCounter} = source()
      docLineValue = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0).line
    }
    return docLineValue
  }
  const originOf = (prefix: (string | number)[]): Origin => {
    let line: number | undefined
    return {file, get line() {
      return (line ??= prefix.length ? lineOf(prefix)([]) ?? docLine() : docLine())
    }}
  }
  return {lineOf, keyLineOf, docLine, originOf}
}

/** Every document of a text with the positions of its nodes: for messages only. */
function withLines(text: string): {docs: Document[]; lineCounter: LineCounter} {
  const lineCounter = new LineCounter()
  const documents = parseAllDocuments(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  return {docs: Array.isArray(documents) ? documents : [documents as unknown as Document], lineCounter}
}

/** One JSON value as documents, with lines worked out lazily (from a YAML parse of the text) for messages. */
function jsonDocuments(value: unknown, text: string, file: string): {objects: ParsedObject[]; problems: InputProblem[]} {
  let lined: ReturnType<typeof withLines> | undefined
  const lines = lazyLines(file, () => {
    lined ??= withLines(text)
    return {doc: lined.docs[0], lineCounter: lined.lineCounter}
  })
  return collectObjects(value, file, lines)
}

type LineOf = (prefix: (string | number)[]) => (path: (string | number)[]) => number | undefined

/** A document's value → objects (a List's items, or the object itself), or a problem. */
function collectObjects(value: unknown, file: string, lines: {lineOf: LineOf; keyLineOf: LineOf; docLine: () => number; originOf: (prefix: (string | number)[]) => Origin}): {objects: ParsedObject[]; problems: InputProblem[]} {
  const {lineOf, keyLineOf, docLine, originOf} = lines
  const objects: ParsedObject[] = []
  const problems: InputProblem[] = []
  if (value === null || value === undefined) return {objects, problems}
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({file, line: docLine(), message: 'expected a Kubernetes object (apiVersion, kind, metadata), got ' + (Array.isArray(value) ? 'a list' : `a ${typeof value}`)})
    return {objects, problems}
  }
  const record = value as Record<string, unknown>
  if (record.kind === 'List' || (typeof record.kind === 'string' && record.kind.endsWith('List') && Array.isArray(record.items))) {
    if (!Array.isArray(record.items)) {
      problems.push({file, line: docLine(), message: 'a List needs an items list'})
      return {objects, problems}
    }
    record.items.forEach((item, index) => {
      const origin = originOf(['items', index])
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        problems.push({file, line: origin.line, message: `items[${index}]: expected a Kubernetes object`})
      } else objects.push({object: item as Record<string, unknown>, origin, lineOf: lineOf(['items', index]), keyLineOf: keyLineOf(['items', index])})
    })
    return {objects, problems}
  }
  objects.push({object: record, origin: originOf([]), lineOf: lineOf([]), keyLineOf: keyLineOf([])})
  return {objects, problems}
}

/**
 * YAML: parsed once without positions, values taken, the syntax trees dropped. Positions (a second parse, with a
 * LineCounter) only when a message asks for a line; at once when the text has a syntax error.
 */
function yamlDocuments(text: string, file: string): {objects: ParsedObject[]; problems: InputProblem[]} {
  const parsed = parseAllDocuments(text, {prettyErrors: false, uniqueKeys: true})
  const documents = Array.isArray(parsed) ? parsed : [parsed as unknown as Document]
  const objects: ParsedObject[] = []
  const problems: InputProblem[] = []
  let lined: ReturnType<typeof withLines> | undefined
  const source = (index: number) => () => {
    lined ??= withLines(text)
    return {doc: lined.docs[index], lineCounter: lined.lineCounter}
  }
  for (const [index, doc] of documents.entries()) {
    if (doc.errors.length > 0) {
      const {lineCounter} = (lined ??= withLines(text))
      for (const error of doc.errors) {
        const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line
        problems.push({file, line, message: `YAML syntax error: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`})
      }
      continue
    }
    const value: unknown = doc.toJS({maxAliasCount: 100})
    if (value === null || value === undefined) continue
    const collected = collectObjects(value, file, lazyLines(file, source(index)))
    objects.push(...collected.objects)
    problems.push(...collected.problems)
  }
  return {objects, problems}
}

const API_VERSION_OF: Record<string, string> = {
  TrafficPolicy: NETWORKING_API_VERSION,
  FailoverService: NETWORKING_API_VERSION,
  VirtualMesh: NETWORKING_API_VERSION,
  AccessPolicy: NETWORKING_API_VERSION,
  KubernetesCluster: MULTICLUSTER_API_VERSION,
}

export interface LoadedResource {
  resource: SmhResource
  origin: Origin
}

/**
 * Turns parsed objects into SMH resources: kind and apiVersion known, metadata.name set, spec valid against the
 * schema, no two resources with the same Kind/namespace/name. A missing namespace means the SMH namespace. Field
 * names in `spec` written in Service Mesh Hub's proto spelling (`destination_selector`) are normalised first, each
 * with a note; one field in both spellings is a problem.
 */
export function checkResources(objects: ParsedObject[]): {resources: LoadedResource[]; problems: InputProblem[]; notes: InputNote[]} {
  const resources: LoadedResource[] = []
  const problems: InputProblem[] = []
  const notes: InputNote[] = []
  const seen = new Map<string, Origin>()
  for (const {object, origin, lineOf, keyLineOf = lineOf} of objects) {
    const kind = object.kind
    const metadata = (object.metadata ?? {}) as Record<string, unknown>
    const name = typeof metadata.name === 'string' ? metadata.name : undefined
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : SMH_NAMESPACE
    const id = `${typeof kind === 'string' ? kind : '?'}/${namespace}/${name ?? '?'}`
    const at = (path: string, line?: number): Pick<InputProblem, 'file' | 'line' | 'resource' | 'path'> => ({
      file: origin.file,
      line: line ?? origin.line,
      resource: id,
      ...(path ? {path} : {}),
    })
    if (typeof kind !== 'string' || kind === '') {
      problems.push({file: origin.file, line: origin.line, message: 'object has no kind: every document needs apiVersion, kind and metadata.name'})
      continue
    }
    const schema = kindSchema(kind)
    if (!schema) {
      problems.push({
        ...at('kind', lineOf(['kind'])),
        message: `kind ${kind} is not an SMH resource (expected TrafficPolicy, FailoverService, VirtualMesh, AccessPolicy or KubernetesCluster; pass cluster objects with --snapshot CLUSTER=FILE)`,
      })
      continue
    }
    const apiVersion = API_VERSION_OF[kind]
    if (object.apiVersion !== apiVersion) {
      problems.push({...at('apiVersion', lineOf(['apiVersion'])), message: `expected ${apiVersion}, got ${JSON.stringify(object.apiVersion ?? null)}`})
    }
    if (!name) {
      problems.push({...at('metadata.name', lineOf(['metadata'])), message: 'is required'})
    } else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      problems.push({...at('metadata.name', lineOf(['metadata', 'name'])), message: `expected a lowercase DNS name, got ${JSON.stringify(name)}`})
    }
    if (object.spec === undefined || object.spec === null) {
      problems.push({...at('spec'), message: 'is required'})
      continue
    }
    const spelling = normalizeSpelling(object.spec, schema.spec, 'spec')
    const spec = spelling.value
    for (const rename of spelling.renames) {
      notes.push({file: origin.file, line: keyLineOf(['spec', ...rename.writtenPath]) ?? origin.line, resource: id, message: `${rename.parent}.${rename.from} → ${rename.to}`})
    }
    for (const clash of spelling.clashes) {
      problems.push({
        ...at(`${clash.parent}.${clash.camel}`, keyLineOf(['spec', ...clash.writtenPath])),
        message: `given twice, as ${clash.camel} and as ${clash.snake} (its proto spelling); keep one`,
      })
    }
    // Problems name fields in JSON spelling; their lines come from the fields as written.
    const writtenLineOf: ParsedObject['lineOf'] = (path) => lineOf(path[0] === 'spec' ? ['spec', ...spelling.writtenPathOf(path.slice(1))] : path)
    const schemaProblems = validateAgainstSchema(spec, schema.spec, 'spec')
    for (const problem of schemaProblems) {
      const segments = problem.path.split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s))
      problems.push({...at(problem.path, nearestLine(writtenLineOf, segments)), message: problem.message})
    }
    const key = id
    const earlier = seen.get(key)
    if (earlier) {
      problems.push({...at(''), message: `defined twice (first at ${earlier.file}:${earlier.line}); keep one`})
      continue
    }
    seen.set(key, origin)
    if (schemaProblems.length > 0 || spelling.clashes.length > 0 || object.apiVersion !== apiVersion || !name) continue
    const resource = {
      apiVersion,
      kind,
      metadata: {...metadata, name, namespace},
      spec,
      ...(object.status === undefined ? {} : {status: object.status}),
    } as SmhResource
    resources.push({resource, origin})
  }
  return {resources, problems, notes}
}

function nearestLine(lineOf: ParsedObject['lineOf'], segments: (string | number)[]): number | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const line = lineOf(segments.slice(0, n))
    if (line !== undefined) return line
  }
  return undefined
}

export {resourceId}
