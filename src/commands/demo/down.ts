import {BaseCommand} from '../../base-command.js'

export default class DemoDown extends BaseCommand<typeof DemoDown> {
  static override summary = 'Stop the local control planes (and the data plane) that demo up started, and remove their data.'
  static override examples = ['$ kubectl smh demo down']

  async run(): Promise<void> {
    const {demoDown} = await import('../../services/demo/index.js')
    const result = await demoDown()
    if (result.dataplane) this.info(`data plane removed: ${result.dataplane.namespaces.length} network namespaces, ${result.dataplane.processes} processes, links ${result.dataplane.links.join(', ') || '(none left)'}`)
    this.info(result.stopped.length === 0
      ? (result.dataplane ? 'no control planes were running' : 'no demo is running: nothing to stop')
      : `stopped ${result.stopped.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`)
    this.output(result, () => '')
  }
}
