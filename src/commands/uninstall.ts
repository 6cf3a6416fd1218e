import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Uninstall extends BaseCommand<typeof Uninstall> {
  static override summary = 'Remove the SMH CRDs and the service-mesh-hub namespace from the management cluster.'
  static override description = `Refuses while SMH resources (registrations included) exist, unless --force, which deletes them with the CRDs.
Objects generated in registered clusters are not touched: deregister the clusters first to remove them.`
  static override examples = ['$ kubectl smh uninstall', '$ kubectl smh uninstall --force']
  static override flags = {
    force: Flags.boolean({summary: 'Delete even while SMH resources exist (they go with their CRDs).'}),
  }

  async run(): Promise<void> {
    const {uninstall} = await import('../services/install.js')
    const result = await uninstall(await this.managementClient(), {force: this.flags.force})
    this.output(result, () => (result.removed.length ? result.removed.map((r) => `removed ${r}`).join('\n') : 'nothing to remove'))
  }
}
