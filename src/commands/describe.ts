import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Describe extends BaseCommand<typeof Describe> {
  static override summary = 'Show one service, failover service, virtual mesh, cluster or traffic policy as the live clusters see it.'
  static override description = `Reads the management cluster and every registered cluster at once (with the credentials stored at
registration) and shows, in sections:
  service (CLUSTER/NS/SVC or the discovered name): mesh, ports, subsets, ready endpoints per cluster, the traffic
    policies that select it in their order of acceptance (and which lost a conflict), the failover services it
    backs and its priority there, and the Istio objects generated for it, per cluster.
  failoverservice: hostname, the backing services in priority order with ready endpoints and outlier detection,
    which one serves now, status and errors.
  virtualmesh: meshes, root fingerprint and expiry, each intermediate's expiry and whether it chains to the root,
    and federation (which services are visible where).
  cluster: registration, token expiry, API server and Istio versions, gateways with their addresses.
  trafficpolicy: its order of acceptance, status, targets and generated objects.
An unknown NAME exits 2 with the nearest names that exist. -o json|yaml prints the same as data.`
  static override examples = [
    '$ kubectl smh describe service kind2/default/reviews',
    '$ kubectl smh describe failoverservice reviews-failover',
    '$ kubectl smh describe virtualmesh virtual-mesh -o yaml',
    '$ kubectl smh describe cluster kind3',
  ]
  static override args = {
    kind: Args.string({description: 'service, failoverservice (fs), virtualmesh (vm), cluster or trafficpolicy (tp).', required: true}),
    name: Args.string({description: 'The name (NAMESPACE/NAME for SMH resources in several namespaces; CLUSTER/NS/SVC for a service).', required: true}),
  }

  async run(): Promise<void> {
    const {describe, describeKind} = await import('../observe/describe.js')
    const {observe} = await import('../services/observe.js')
    const {renderDescription} = await import('../ui/observe.js')
    const kind = describeKind(this.args.kind)
    const mgmt = await this.managementClient()
    const observation = await observe({mgmt, deep: true})
    if (observation.mgmt.error) {
      const {SmhError} = await import('../errors.js')
      throw new SmhError(observation.mgmt.error)
    }
    const description = describe(observation, kind, this.args.name)
    this.output(description, () => renderDescription(description))
  }
}
