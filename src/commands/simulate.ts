import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Simulate extends BaseCommand<typeof Simulate> {
  static override summary = 'What if: where requests for a service go from each client cluster, and where they go when parts fail.'
  static override description = `Computed from the discovered clusters and the translated config; no traffic is sent. For each client cluster
(the service's own, by its local name, and every cluster that sees its federated name) each route of the
VirtualService with its weighted destinations; a FailoverService opens into its priority tiers (backing services
in order), and the first with ready endpoints serves. --fail takes clusters or services (CLUSTER/NS/SVC) out and
shows where requests go then. Warns on what would defeat failover: no outlier detection, maxEjectionPercent below
100, a remote backing service whose gateway has no address, a subset with no endpoints.`
  static override examples = [
    '$ kubectl smh simulate kind2/default/reviews',
    '$ kubectl smh simulate reviews-default-kind2 --from kind2 --fail kind2',
    '$ kubectl smh simulate kind2/default/reviews --fail kind2/default/reviews -o json',
  ]
  static override args = {
    service: Args.string({description: 'The service: CLUSTER/NS/SVC or the discovered name.', required: true}),
  }
  static override flags = {
    from: Flags.string({summary: 'Only this client cluster.'}),
    fail: Flags.string({summary: 'A cluster or CLUSTER/NS/SVC to take out; repeat for more.', multiple: true}),
  }

  async run(): Promise<void> {
    const {simulate} = await import('../observe/simulate.js')
    const {observe} = await import('../services/observe.js')
    const {renderSimulation} = await import('../ui/observe.js')
    const {SmhError} = await import('../errors.js')
    const mgmt = await this.managementClient()
    const observation = await observe({mgmt})
    if (observation.mgmt.error) throw new SmhError(observation.mgmt.error)
    const result = simulate(observation, this.args.service, {from: this.flags.from, fail: this.flags.fail})
    this.output(result, () => renderSimulation(result))
  }
}
