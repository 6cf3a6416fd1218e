import {type Command, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import type {ClusterClient} from './kube/client.js'
import type {ProgressEvent} from './services/sync.js'
import type {VerbResult} from './services/verbs/author.js'

/**
 * What the verbs of issue 8 share (create virtualmesh, add failoverservice, shift traffic, set outlier, set route,
 * allow access): -n, --dry-run, --no-sync, --force-conflicts; the check for missing flags (the wizard's entry
 * point); and rendering like apply.
 */
export abstract class VerbCommand<T extends typeof Command> extends BaseCommand<T> {
  static verbFlags = {
    namespace: Flags.string({char: 'n', summary: 'Namespace of the new resource in the management cluster (default service-mesh-hub).'}),
    'dry-run': Flags.boolean({summary: 'Print the SMH resources and the Istio objects they would produce per cluster; write nothing.'}),
    'no-sync': Flags.boolean({summary: 'Only write the resources; do not sync.'}),
    'force-conflicts': Flags.boolean({summary: 'In the sync: take over fields another field manager owns in generated objects.'}),
  }

  /** The common part of every verb's service options. */
  protected verbOptions(mgmt: ClusterClient) {
    const flags = this.flags as {namespace?: string; 'dry-run'?: boolean; 'no-sync'?: boolean; 'force-conflicts'?: boolean}
    return {mgmt, namespace: flags.namespace, dryRun: flags['dry-run'], noSync: flags['no-sync'], forceConflicts: flags['force-conflicts']}
  }

  /**
   * THE WIZARD'S ENTRY POINT. `missing` names what the flags lack (from the verb's `...Missing(options)`). On a
   * terminal (canPrompt()) a wizard from src/ui/wizards/ fills it in from what discovery finds and returns the
   * completed options; until one is wired for `verb`, and always without a terminal, it is exit 2 naming every
   * missing flag.
   */
  protected async completeOptions<O extends object>(verb: string, options: O, missing: string[]): Promise<O> {
    if (missing.length === 0) return options
    const {canPrompt} = await import('./ui/interactive.js')
    if (canPrompt()) {
      const completed = await this.wizard(verb, options, missing)
      if (completed) return completed
    }
    const {missingFlags} = await import('./services/verbs/author.js')
    throw missingFlags(missing)
  }

  /** Replaced by the wizards (src/ui/wizards/): returns the completed options, or undefined when there is no wizard. */
  protected async wizard<O extends object>(_verb: string, _options: O, _missing: string[]): Promise<O | undefined> {
    return undefined
  }

  /** Runs the verb's service with progress on stderr, prints its notes, the result and the statuses, like apply. */
  protected async runVerb(work: (onProgress: (event: ProgressEvent) => void) => Promise<VerbResult>): Promise<void> {
    const {syncFailure} = await import('./services/sync.js')
    const {withClusterProgress} = await import('./ui/progress.js')
    const {statusRows} = await import('./ui/sync.js')
    const {verbData, verbTable} = await import('./ui/verbs.js')
    this.exitOnInterrupt()
    const result = await withClusterProgress(process.stderr, this.stderrColor, work)
    for (const note of result.notes) this.info(`note: ${note}`)
    this.output(verbData(result), () => verbTable(result))
    if (result.sync && this.format === 'table') this.info(statusRows(result.sync))
    const failure = syncFailure(result.sync)
    if (failure) throw failure
  }
}
