import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete an SMH resource from the management cluster, then sync (its generated objects are pruned).'
  static override examples = ['$ kubectl smh delete tp reviews-shift-failover', '$ kubectl smh delete fs reviews-failover -n service-mesh-hub --no-sync']
  static override args = {
    kind: Args.string({description: 'The kind (plural, singular or short name).', required: true}),
    name: Args.string({description: 'The resource.', required: true}),
  }
  static override flags = {
    namespace: Flags.string({char: 'n', summary: 'Its namespace (needed only when the name exists in several).'}),
    'no-sync': Flags.boolean({summary: 'Only delete; do not sync.'}),
  }

  async run(): Promise<void> {
    const {deleteResource} = await import('../services/resources.js')
    const {syncFailure} = await import('../services/sync.js')
    const {withClusterProgress} = await import('../ui/progress.js')
    const ui = await import('../ui/sync.js')
    this.exitOnInterrupt()
    const mgmt = await this.managementClient()
    const result = await withClusterProgress(process.stderr, this.stderrColor, (onProgress) => deleteResource(mgmt, this.args.kind, this.args.name, {
      namespace: this.flags.namespace, noSync: this.flags['no-sync'], sync: {onProgress},
    }))
    this.output(result, () => [`${result.deleted} deleted`, ...(result.sync ? [ui.clusterTable(result.sync)] : [])].join('\n'))
    const failure = syncFailure(result.sync)
    if (failure) throw failure
  }
}
