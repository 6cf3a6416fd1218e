import Table from 'cli-table3'
import {stringify} from 'yaml'

export const OUTPUT_FORMATS = ['table', 'yaml', 'json'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export interface Column<Row> {
  header: string
  get: (row: Row) => string | number | undefined
}

/** A kubectl-style table: upper-case headers, no borders, columns separated by spaces. */
export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const table = new Table({
    head: columns.map((c) => c.header.toUpperCase()),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ',
    },
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  })
  for (const row of rows) table.push(columns.map((c) => String(c.get(row) ?? '')))
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n')
}

export function renderJson(data: unknown): string {
  return JSON.stringify(data, null, 2)
}

/** One YAML document, or a `---` stream when given an array of objects (what `kubectl apply -f -` takes). */
export function renderYaml(data: unknown, asStream = false): string {
  // No anchors/aliases: objects that share values must still print as plain, independent YAML.
  if (asStream && Array.isArray(data)) return data.map((d) => stringify(d, {lineWidth: 0, aliasDuplicateObjects: false}).trimEnd()).join('\n---\n')
  return stringify(data, {lineWidth: 0, aliasDuplicateObjects: false}).trimEnd()
}

/**
 * Writes text pieces to a stream in batches of about 1 MB, waiting when the stream asks (backpressure), so that a
 * large output is never built as one string. The bytes are those of joining the pieces.
 */
export async function writePieces(out: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let batch: string[] = []
  let size = 0
  const flush = async () => {
    if (batch.length === 0) return
    const text = batch.join('')
    batch = []
    size = 0
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve))
  }
  for (const piece of pieces) {
    batch.push(piece)
    size += piece.length
    if (size >= 1 << 20) await flush()
  }
  await flush()
}

/** `renderJson({...head, items})` + newline, piece by piece: the same bytes, one item at a time. */
export function* jsonListPieces(head: Record<string, unknown>, items: unknown[], tail: Record<string, unknown> = {}): Generator<string> {
  const open = JSON.stringify(head, null, 2)
  yield `${open.slice(0, -2)},\n  "items": [`
  for (const [index, item] of items.entries()) yield `${index ? ',' : ''}\n    ${JSON.stringify(item, null, 2).replace(/\n/g, '\n    ')}`
  yield items.length ? '\n  ]' : ']'
  for (const [key, value] of Object.entries(tail)) yield `,\n  ${JSON.stringify(key)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`
  yield '\n}\n'
}

/** `renderYaml(items, true)` + newline, piece by piece. */
export function* yamlStreamPieces(items: unknown[]): Generator<string> {
  for (const [index, item] of items.entries()) yield `${index ? '\n---\n' : ''}${stringify(item, {lineWidth: 0, aliasDuplicateObjects: false}).trimEnd()}`
  if (items.length) yield '\n'
}
