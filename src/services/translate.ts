/**
 * `kubectl smh translate`: SMH resources from files + cluster snapshots → Istio objects per cluster and statuses.
 * Returns data; never prints.
 */
import {type LoadOptions, loadResources, loadSnapshot} from '../api/load.js'
import {formatNote, formatProblem} from '../api/parse.js'
import type {ResourceStatus} from '../api/types.js'
import type {KubeObject} from '../discovery/types.js'
import {UsageError} from '../errors.js'
import {type TranslateResult, translate} from '../translate/index.js'
import {writeManifests} from './translate-output.js'

export interface TranslateFilesOptions extends LoadOptions {
  filenames: string[]
  /** `CLUSTER=FILE` pairs. */
  snapshots: string[]
}

export interface TranslateCommandOptions extends TranslateFilesOptions {
  /** Write DIR/<cluster>/<kind>-<namespace>-<name>.yaml instead of returning the objects for printing. */
  outputDir?: string
}

/**
 * What `kubectl smh translate` does: load and translate; any input problem or INVALID resource is a UsageError
 * listing every problem, before anything is written; with outputDir, the manifests are written there.
 */
export async function translateCommand(options: TranslateCommandOptions): Promise<TranslateResult & {written?: string[]; notes: string[]}> {
  const outcome = await translateFiles(options)
  const problems = outcome.result ? invalidStatusProblems(outcome.result.statuses) : outcome.problems
  if (problems.length || !outcome.result) {
    // The notes too: problems name fields in camelCase, which may not be how the file spells them.
    throw new UsageError(`invalid input: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, [...problems, ...outcome.notes.map((n) => `note: ${n}`)])
  }
  if (!options.outputDir) return {...outcome.result, notes: outcome.notes}
  return {...outcome.result, notes: outcome.notes, written: await writeManifests(options.outputDir, outcome.result.clusters)}
}

export interface TranslateFilesOutcome {
  /** Input problems (syntax, schema, flags), one line each; when any, there is no result. */
  problems: string[]
  /** What was normalised in the input (proto field names), one line each, to print as `note: ...`. */
  notes: string[]
  result?: TranslateResult
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

export async function translateFiles(options: TranslateFilesOptions): Promise<TranslateFilesOutcome> {
  const problems: string[] = []
  const snapshots: Record<string, KubeObject[]> = {}
  for (const pair of options.snapshots) {
    const eq = pair.indexOf('=')
    const cluster = eq > 0 ? pair.slice(0, eq) : ''
    const file = eq > 0 ? pair.slice(eq + 1) : ''
    if (!cluster || !file) {
      problems.push(`--snapshot ${pair}: expected CLUSTER=FILE, e.g. --snapshot kind2=kind2.yaml`)
      continue
    }
    if (!CLUSTER_NAME.test(cluster)) {
      problems.push(`--snapshot ${pair}: cluster name ${JSON.stringify(cluster)} must be a lowercase DNS name such as kind2`)
      continue
    }
    if (snapshots[cluster]) {
      problems.push(`--snapshot ${pair}: cluster ${cluster} is given twice`)
      continue
    }
    const loaded = await loadSnapshot(file, options)
    problems.push(...loaded.problems.map(formatProblem))
    snapshots[cluster] = loaded.objects as unknown as KubeObject[]
  }
  const loaded = await loadResources(options.filenames, options)
  problems.push(...loaded.problems.map(formatProblem))
  const notes = loaded.notes.map(formatNote)
  if (problems.length) return {problems, notes}
  return {problems, notes, result: translate({resources: loaded.resources.map((r) => r.resource), snapshots})}
}

/** One line per error of each INVALID resource: `TrafficPolicy/default/x: <error>`. */
export function invalidStatusProblems(statuses: ResourceStatus[]): string[] {
  return statuses
    .filter((s) => s.state === 'INVALID')
    .flatMap((s) => (s.errors.length ? s.errors : ['INVALID']).map((e) => `${s.kind}/${s.namespace}/${s.name}: ${e}`))
}
