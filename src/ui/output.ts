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
