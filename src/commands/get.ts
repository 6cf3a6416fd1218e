import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Get extends BaseCommand<typeof Get> {
  static override summary = 'List SMH resources with their status (state, errors, observed generation).'
  static override description = `KIND is one of trafficpolicies (tp), failoverservices (fs), virtualmeshes (vm), accesspolicies (ap) or
kubernetesclusters (kc, clusters); singular names work too. Lists every namespace unless -n is given. -o yaml|json
prints the resources themselves.`
  static override examples = ['$ kubectl smh get tp', '$ kubectl smh get fs reviews-failover -o yaml', '$ kubectl smh get clusters']
  static override args = {
    kind: Args.string({description: 'The kind (plural, singular or short name).', required: true}),
    name: Args.string({description: 'One resource by name.'}),
  }
  static override flags = {
    namespace: Flags.string({char: 'n', summary: 'Only this namespace of the management cluster.'}),
  }

  async run(): Promise<void> {
    const {getResources} = await import('../services/resources.js')
    const {renderTable} = await import('../ui/output.js')
    const rows = await getResources(await this.managementClient(), this.args.kind, {name: this.args.name, namespace: this.flags.namespace})
    const resources = rows.map((r) => r.resource)
    this.output(this.args.name && resources.length === 1 ? resources[0] : {apiVersion: 'v1', kind: 'List', items: resources}, () => {
      if (rows.length === 0) return ''
      return renderTable(rows, [
        {header: 'namespace', get: (r) => r.namespace},
        {header: 'name', get: (r) => r.name},
        {header: 'state', get: (r) => r.state ?? '(not synced)'},
        {header: 'observed', get: (r) => (r.observedGeneration === undefined ? '-' : `${r.observedGeneration}/${r.generation}`)},
        {header: 'errors', get: (r) => [...r.errors, ...r.warnings.map((w) => `warning: ${w}`)].join('; ')},
      ])
    })
    if (rows.length === 0 && this.format === 'table') this.info('No resources found.')
  }
}
