import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class ShiftTraffic extends VerbCommand<typeof ShiftTraffic> {
  static override summary = 'Shift a service\'s traffic: to weighted destinations or to a FailoverService, then sync.'
  static override description = `Writes a TrafficPolicy with trafficShift for SERVICE (CLUSTER/NS/SVC or its discovered name, e.g.
reviews-default-kind2) and syncs, as apply -f would. Either --to, repeated, with weights adding up to 100 (a subset
:LABEL=VALUE picks the workloads behind the service with that label), or --to-failover with a FailoverService.
The policy is named SERVICE-shift (--to) or SERVICE-shift-FAILOVER (--to-failover, without a leading SERVICE-),
unless --name says otherwise; running it again with the same name updates it.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh shift traffic kind2/default/reviews --to-failover reviews-failover -n default',
    '$ kubectl smh shift traffic kind2/default/reviews --to kind2/default/reviews=50 --to kind3/default/reviews:version=v3=50',
  ]
  static override args = {
    service: Args.string({description: 'The service whose traffic moves: CLUSTER/NS/SVC or its discovered name.', required: false}),
  }
  static override flags = {
    to: Flags.string({summary: 'A destination CLUSTER/NS/SVC[:LABEL=VALUE]=WEIGHT; repeat (weights add up to 100).', multiple: true}),
    'to-failover': Flags.string({summary: 'A FailoverService (NAME or NAMESPACE/NAME) to send all of it to.'}),
    name: Flags.string({summary: 'Name of the TrafficPolicy.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {shiftTraffic, shiftTrafficMissing} = await import('../../services/verbs/shift-traffic.js')
    const {flags} = this
    await this.runVerb('shift traffic', {service: this.args.service, to: flags.to, toFailover: flags['to-failover'], name: flags.name}, shiftTrafficMissing, shiftTraffic)
  }
}
