import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class DemoFail extends BaseCommand<typeof DemoFail> {
  static override summary = "Make a demo Deployment's apps (or every app behind a Service) answer 503, until demo heal."
  static override description = `Runs on the data plane of \`demo up --dataplane\` (root). The apps keep running and answer every request with
503; with --stop they close their port instead (their Envoy then answers 503 itself). Outlier detection
ejects a failing host: with the seed's consecutiveErrors 1 and baseEjectionTime 2m, one failure keeps it out for
two minutes, even after demo heal.`
  static override examples = [
    '$ sudo kubectl smh demo fail kind2/default/reviews',
    '$ sudo kubectl smh demo fail kind2/default/reviews-v1 --stop',
  ]
  static override args = {
    target: Args.string({description: 'CLUSTER/NAMESPACE/NAME: a Deployment, or a Service (every Deployment behind it).', required: true}),
  }
  static override flags = {
    stop: Flags.boolean({summary: 'Close the apps\' port instead of answering 503.'}),
  }

  async run(): Promise<void> {
    const {demoDir} = await import('../../services/demo/index.js')
    const {demoFail} = await import('../../services/demo/dataplane.js')
    const result = demoFail({demoDir: demoDir(), target: this.args.target, stop: this.flags.stop})
    this.info(`${result.mode === 'stop' ? 'stopped' : 'answering 503'}: ${result.pods.join(', ')} (undo with: kubectl smh demo heal)`)
    this.output(result, () => '')
  }
}
