import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class DemoHeal extends BaseCommand<typeof DemoHeal> {
  static override summary = 'Undo demo fail: the apps answer again (all of them, or those of one Deployment or Service).'
  static override examples = ['$ sudo kubectl smh demo heal', '$ sudo kubectl smh demo heal kind2/default/reviews']
  static override args = {
    target: Args.string({description: 'CLUSTER/NAMESPACE/NAME (default: every app).'}),
  }

  async run(): Promise<void> {
    const {demoDir} = await import('../../services/demo/index.js')
    const {demoHeal} = await import('../../services/demo/dataplane.js')
    const result = demoHeal({demoDir: demoDir(), target: this.args.target})
    this.info(`answering again: ${result.pods.length} apps`)
    this.output(result, () => '')
  }
}
