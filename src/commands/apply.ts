import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Write SMH resources from files to the management cluster, then sync.'
  static override description = `Validates everything first, the schema and every reference (services, subsets, ports, meshes, clusters) against what
discovery sees in the registered clusters with the resources already stored: if anything is invalid, nothing is
written and every problem is listed (exit 2). Then writes the resources to the management cluster with
server-side apply and runs kubectl smh sync (--no-sync to skip). Proto spellings of field names (destination_selector)
are accepted and written as camelCase.`
  static override examples = [
    '$ kubectl smh apply -f reviews-failover.yaml',
    '$ kubectl smh apply -f smh/ --no-sync',
    '$ cat policy.yaml | kubectl smh apply -f -',
  ]
  static override flags = {
    filename: Flags.string({char: 'f', summary: 'File, directory or - (stdin) with SMH resources; repeat for more.', multiple: true, required: true}),
    'no-sync': Flags.boolean({summary: 'Only write the resources; do not sync.'}),
    'force-conflicts': Flags.boolean({summary: 'In the sync: take over fields another field manager owns in generated objects.'}),
  }

  async run(): Promise<void> {
    const {applyResources} = await import('../services/resources.js')
    const {syncFailure} = await import('../services/sync.js')
    const {withClusterProgress} = await import('../ui/progress.js')
    const ui = await import('../ui/sync.js')
    this.exitOnInterrupt()
    const mgmt = await this.managementClient()
    const result = await withClusterProgress(process.stderr, this.stderrColor, (onProgress) => applyResources({
      mgmt, filenames: this.flags.filename, noSync: this.flags['no-sync'], sync: {forceConflicts: this.flags['force-conflicts'], onProgress},
    }))
    for (const note of result.notes) this.info(`note: ${note}`)
    const synced = result.sync
    this.output(result, () => [
      ...result.applied.map((a) => `${a.resource} ${a.action}`),
      ...(synced ? [ui.clusterTable(synced)] : []),
    ].join('\n'))
    if (synced && this.format === 'table') this.info(ui.statusRows(synced))
    const failure = syncFailure(synced)
    if (failure) throw failure
  }
}
