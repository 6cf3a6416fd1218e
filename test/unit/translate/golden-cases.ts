/** Shared by the golden test and the istioctl test: every case under test/golden and its translation. */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parse, stringify} from 'yaml'

import {type TranslateFilesOutcome, translateFiles} from '../../../src/services/translate.js'

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../golden')

export interface GoldenCase {
  name: string
  dir: string
  description: string
  inputs: string[]
  snapshots: Record<string, string>
}

export function goldenCases(): GoldenCase[] {
  return readdirSync(GOLDEN_DIR)
    .filter((name) => existsSync(join(GOLDEN_DIR, name, 'case.yaml')))
    .sort()
    .map((name) => {
      const dir = join(GOLDEN_DIR, name)
      const spec = parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) as {description: string; inputs: string[]; snapshots: Record<string, string>}
      return {name, dir, description: spec.description, inputs: spec.inputs.map((f) => join(dir, f)), snapshots: Object.fromEntries(Object.entries(spec.snapshots).map(([c, f]) => [c, join(dir, f)]))}
    })
}

export function runCase(c: GoldenCase): Promise<TranslateFilesOutcome> {
  return translateFiles({filenames: c.inputs, snapshots: Object.entries(c.snapshots).map(([cluster, file]) => `${cluster}=${file}`)})
}

/** The expected files of a case: `expected/<cluster>.yaml` (a `---` stream, what kubectl apply -f takes) and `expected/statuses.yaml`. */
export function renderExpected(outcome: TranslateFilesOutcome): Record<string, string> {
  if (!outcome.result) return {'problems.txt': outcome.problems.join('\n') + '\n'}
  const files: Record<string, string> = {}
  for (const [cluster, objects] of Object.entries(outcome.result.clusters)) {
    files[`${cluster}.yaml`] = objects.map((o) => stringify(o, {lineWidth: 0, aliasDuplicateObjects: false})).join('---\n')
  }
  files['statuses.yaml'] = stringify(outcome.result.statuses, {lineWidth: 0, aliasDuplicateObjects: false})
  return files
}
