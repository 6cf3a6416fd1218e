/**
 * The golden cases under test/golden (case.yaml: description, SMH inputs, cluster snapshots) and their translation,
 * for every suite that judges the translator: the golden files, istioctl validate, real API servers, the xDS oracle.
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parse, stringify} from 'yaml'

import {loadSnapshot} from '../../src/api/load.js'
import {formatProblem} from '../../src/api/parse.js'
import type {KubeObject} from '../../src/discovery/index.js'
import {type TranslateFilesOutcome, translateFiles} from '../../src/services/translate.js'
import type {IstioObject} from '../../src/translate/index.js'

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../golden')
export const FIXTURE_SNAPSHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/snapshots')

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

/** Objects as a `---` stream, the form `kubectl apply -f` and the oracle's --config take. */
export function yamlStream(objects: IstioObject[]): string {
  return objects.map((o) => stringify(o, {lineWidth: 0, aliasDuplicateObjects: false})).join('---\n')
}

/** A cluster snapshot file (`kubectl get ... -A -o yaml`) read with the product's own loader. */
export async function snapshotObjects(file: string): Promise<KubeObject[]> {
  const loaded = await loadSnapshot(file)
  if (loaded.problems.length) throw new Error(loaded.problems.map(formatProblem).join('\n'))
  return loaded.objects as unknown as KubeObject[]
}

/** The expected files of a case: `expected/<cluster>.yaml` (a `---` stream, what kubectl apply -f takes) and `expected/statuses.yaml`. */
export function renderExpected(outcome: TranslateFilesOutcome): Record<string, string> {
  if (!outcome.result) return {'problems.txt': outcome.problems.join('\n') + '\n'}
  const files: Record<string, string> = {}
  for (const [cluster, objects] of Object.entries(outcome.result.clusters)) {
    files[`${cluster}.yaml`] = yamlStream(objects)
  }
  files['statuses.yaml'] = stringify(outcome.result.statuses, {lineWidth: 0, aliasDuplicateObjects: false})
  return files
}
