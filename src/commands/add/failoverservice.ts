import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class AddFailoverService extends VerbCommand<typeof AddFailoverService> {
  static override summary = 'Add a FailoverService: one hostname served by backing services in priority order, then sync.'
  static override description = `Writes a FailoverService to the management cluster and syncs, as apply -f would. The order of --backing is the
priority: traffic to the hostname goes to the first backing service while it is healthy, then the next. --mesh names
the meshes where the hostname resolves (default: the mesh of the first backing service, and the command says so).

Failover needs outlier detection on every backing service to eject failing endpoints. A backing service that no
accepted TrafficPolicy gives it gets a TrafficPolicy NAME-outlier with Service Mesh Hub's defaults (consecutive
errors 5, interval 10s, base ejection time 30s, max ejection 100%) or the values given here, and the command says so;
--no-outlier makes that an error instead. Running it again with the same NAME updates it.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080/http --backing kind2/default/reviews --backing kind3/default/reviews',
    '$ kubectl smh add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080 --backing reviews-default-kind2 --backing reviews-default-kind3 --no-outlier',
  ]
  static override args = {
    name: Args.string({description: 'Name of the FailoverService.', required: false}),
  }
  static override flags = {
    hostname: Flags.string({summary: 'The hostname clients call, under .global (e.g. reviews-failover.default.global).'}),
    port: Flags.string({summary: 'PORT[/PROTOCOL] it listens on (protocol default http); every backing service must have the port.'}),
    backing: Flags.string({summary: 'A backing service CLUSTER/NS/SVC or discovered name; repeat, highest priority first.', multiple: true}),
    mesh: Flags.string({summary: 'A mesh where the hostname resolves; repeat for more (default: the first backing service\'s).', multiple: true}),
    'consecutive-errors': Flags.integer({summary: 'For the outlier detection it adds: errors before an endpoint is ejected (default 5).'}),
    interval: Flags.string({summary: 'For the outlier detection it adds: how often endpoints are checked (default 10s).'}),
    'base-ejection-time': Flags.string({summary: 'For the outlier detection it adds: how long an endpoint stays ejected at first (default 30s).'}),
    'no-outlier': Flags.boolean({summary: 'Fail when a backing service has no outlier detection instead of adding a TrafficPolicy.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {addFailoverService, addFailoverServiceMissing} = await import('../../services/verbs/add-failoverservice.js')
    const {flags} = this
    await this.runVerb('add failoverservice', {
      name: this.args.name, hostname: flags.hostname, port: flags.port, backing: flags.backing, mesh: flags.mesh,
      consecutiveErrors: flags['consecutive-errors'], interval: flags.interval, baseEjectionTime: flags['base-ejection-time'], noOutlier: flags['no-outlier'],
    }, addFailoverServiceMissing, addFailoverService)
  }
}
