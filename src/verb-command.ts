import {type Command, Flags} from '@oclif/core'

import {BaseCommand} from './base-command.js'
import type {ClusterClient} from './kube/client.js'
import type {ProgressEvent} from './services/sync.js'
import type {VerbOptions, VerbResult} from './services/verbs/author.js'
import type {Verb, WizardFlags} from './ui/wizards/index.js'

/** What a verb's service takes: the flags (as the wizard returns them) and the management cluster. */
type ServiceOptions<V extends Verb> = WizardFlags[V] & VerbOptions

/**
 * What the verbs of issue 8 share (create virtualmesh, add failoverservice, shift traffic, set outlier, set route,
 * allow access): -n, --dry-run, --no-sync, --force-conflicts; a wizard on a terminal when required flags are missing
 * (exit 2 naming them without one); and rendering like apply.
 */
export abstract class VerbCommand<T extends typeof Command> extends BaseCommand<T> {
  static verbFlags = {
    namespace: Flags.string({char: 'n', summary: 'Namespace of the new resource in the management cluster (default service-mesh-hub).'}),
    'dry-run': Flags.boolean({summary: 'Print the SMH resources and the Istio objects they would produce per cluster; write nothing.'}),
    'no-sync': Flags.boolean({summary: 'Only write the resources; do not sync.'}),
    'force-conflicts': Flags.boolean({summary: 'In the sync: take over fields another field manager owns in generated objects.'}),
  }

  /**
   * Runs the verb with the flags the user typed (`given`, camelCase as the verb's service takes them; a flag not
   * typed is undefined). When `missing(given)` names required flags: on a terminal (canPrompt) the verb's wizard
   * (src/ui/wizards) asks for them from what discovery found, shows the --dry-run plan and asks "Apply?"; without
   * one it is exit 2 naming every missing flag. Then the service runs with progress on stderr, and its notes, result
   * and statuses are printed like apply's. The world (stored resources + discovery) is read once: the wizard's
   * choices, its plan and the write all use that read.
   */
  protected async runVerb<V extends Verb>(
    verb: V,
    given: Partial<WizardFlags[V]>,
    missingOf: (given: Partial<WizardFlags[V]>) => string[],
    service: (options: ServiceOptions<V>) => Promise<VerbResult>,
  ): Promise<void> {
    const flags = this.flags as {namespace?: string; 'dry-run'?: boolean; 'no-sync'?: boolean; 'force-conflicts'?: boolean}
    // Only what was typed (oclif leaves an absent boolean undefined, so a wizard knows it may ask it).
    const typed = {
      ...given,
      namespace: flags.namespace, dryRun: flags['dry-run'], noSync: flags['no-sync'], forceConflicts: flags['force-conflicts'],
    } as Partial<WizardFlags[V]>
    const missing = missingOf(typed)
    if (missing.length > 0) {
      const {canPrompt} = await import('./ui/interactive.js')
      const {missingFlags} = await import('./services/verbs/author.js')
      if (!canPrompt()) throw missingFlags(missing)
    }
    const mgmt = await this.managementClient()
    this.exitOnInterrupt()
    const options = missing.length > 0 ? await this.wizard(verb, typed, mgmt, service) : {...(typed as WizardFlags[V]), mgmt}
    // The estimate (create virtualmesh) goes to stderr before anything is written; -o json/yaml carry it in the result.
    const {estimateTable} = await import('./ui/verbs.js')
    const onEstimate = this.format === 'table' ? (plan: {estimate?: Parameters<typeof estimateTable>[0]}) => plan.estimate && this.info(estimateTable(plan.estimate)) : undefined
    await this.render(await this.withProgress((onProgress) => service({...options, onProgress, ...(onEstimate ? {onEstimate} : {})})))
  }

  /**
   * The verb's wizard: reads the world once, offers what it holds, and (unless --dry-run was given: the command
   * prints the plan then) shows the plan for the answers before "Apply?". Returns the service's options.
   */
  private async wizard<V extends Verb>(verb: V, given: Partial<WizardFlags[V]>, mgmt: ClusterClient, service: (options: ServiceOptions<V>) => Promise<VerbResult>): Promise<ServiceOptions<V>> {
    const {readWorld} = await import('./services/verbs/author.js')
    const {choicesFrom} = await import('./services/choices.js')
    const {WIZARDS} = await import('./ui/wizards/index.js')
    const world = await this.withProgress((onProgress) => readWorld(mgmt, onProgress))
    const wizard = WIZARDS[verb] as unknown as {run: (...args: Parameters<(typeof WIZARDS)[Verb]['run']>) => Promise<WizardFlags[V]>}
    const globals = {kubeconfig: this.flags.kubeconfig, mgmtContext: this.flags['mgmt-context'], output: this.flags.output, json: this.flags.json}
    const plan = async (answers: Record<string, unknown>) => this.planText(await service({...(answers as unknown as WizardFlags[V]), mgmt, world, dryRun: true}))
    const answers = await wizard.run(choicesFrom(world.discovery, world.resources, world.failures), given as never, {globals, ...(given.dryRun ? {} : {confirm: plan})})
    return {...answers, mgmt, world}
  }

  /** The --dry-run result as the command prints it (notes, then the table): the plan a wizard shows before "Apply?". */
  private async planText(result: VerbResult): Promise<string> {
    const {verbTable} = await import('./ui/verbs.js')
    return [...result.notes.map((note) => `note: ${note}`), verbTable(result)].join('\n')
  }

  private async withProgress<R>(work: (onProgress: (event: ProgressEvent) => void) => Promise<R>): Promise<R> {
    const {withClusterProgress} = await import('./ui/progress.js')
    return withClusterProgress(process.stderr, this.stderrColor, work)
  }

  /** Prints the verb's notes, the result and the statuses, like apply; a failed sync is exit 1. */
  private async render(result: VerbResult): Promise<void> {
    const {syncFailure} = await import('./services/sync.js')
    const {statusRows} = await import('./ui/sync.js')
    const {verbData, verbTable} = await import('./ui/verbs.js')
    for (const note of result.notes) this.info(`note: ${note}`)
    this.output(verbData(result), () => verbTable(result))
    if (result.sync && this.format === 'table') this.info(statusRows(result.sync))
    const failure = syncFailure(result.sync)
    if (failure) throw failure
  }
}
