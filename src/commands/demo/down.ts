import {BaseCommand} from '../../base-command.js'

export default class DemoDown extends BaseCommand<typeof DemoDown> {
  static override summary = 'Stop the local control planes that demo up started, and remove their data.'
  static override examples = ['$ kubectl smh demo down']

  async run(): Promise<void> {
    const {demoDown} = await import('../../services/demo/index.js')
    const result = await demoDown()
    this.info(result.stopped.length === 0
      ? 'no demo is running: nothing to stop'
      : `stopped ${result.stopped.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`)
    this.output(result, () => '')
  }
}
