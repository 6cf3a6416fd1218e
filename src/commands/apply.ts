import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {SmhError} from '../errors.js'

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
    const {clusterProgress} = await import('../ui/progress.js')
    const ui = await import('../ui/sync.js')
    this.exitOnInterrupt()
    const progress = clusterProgress(process.stderr, this.stderrColor)
    let result
    try {
      result = await applyResources({
        mgmt: await this.managementClient(),
        filenames: this.flags.filename,
        noSync: this.flags['no-sync'],
        sync: {forceConflicts: this.flags['force-conflicts'], onProgress: (e) => progress.update(e.cluster, e.message, e.phase === 'done' ? 'done' : e.phase === 'failed' ? 'failed' : 'working')},
      })
    } finally {
      progress.stop()
    }
    for (const note of result.notes) this.info(`note: ${note}`)
    const synced = result.sync
    this.output(result, () => [
      ...result.applied.map((a) => `${a.resource} ${a.action}`),
      ...(synced ? [ui.clusterTable(synced)] : []),
    ].join('\n'))
    if (synced && this.format === 'table') this.info(ui.statusRows(synced))
    const failed = synced?.clusters.filter((c) => c.result === 'failed') ?? []
    if (failed.length) throw new SmhError(`sync failed in ${failed.map((c) => c.name).join(', ')}`, 1, failed.map((c) => c.error ?? ''))
  }
}
