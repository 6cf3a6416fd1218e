import {BaseCommand} from '../../base-command.js'
import {renderTable} from '../../ui/output.js'

export default class DemoStatus extends BaseCommand<typeof DemoStatus> {
  static override summary = 'Show the processes demo up started and whether they still run.'
  static override examples = ['$ kubectl smh demo status', '$ kubectl smh demo status -o json']

  async run(): Promise<void> {
    const {demoStatus} = await import('../../services/demo/index.js')
    const status = demoStatus()
    if (status.processes.length === 0) this.info('no demo is running (start one with: kubectl smh demo up)')
    const c = this.color
    this.output(status, () => status.processes.length === 0 ? '' : renderTable(status.processes, [
      {header: 'name', get: (p) => p.name},
      {header: 'role', get: (p) => p.role},
      {header: 'pid', get: (p) => p.pid},
      {header: 'address', get: (p) => p.address},
      {header: 'status', get: (p) => (p.running ? c.green('running') : c.red('stopped'))},
    ]))
  }
}
