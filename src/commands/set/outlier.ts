import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class SetOutlier extends VerbCommand<typeof SetOutlier> {
  static override summary = 'Set outlier detection on services (eject failing endpoints), then sync.'
  static override description = `Writes a TrafficPolicy with outlierDetection for each SERVICE (CLUSTER/NS/SVC or discovered name) and syncs, as
apply -f would. Only the values given are written; Service Mesh Hub's defaults apply to the rest (consecutive errors
5, interval 10s, base ejection time 30s, max ejection 100%). The policy is named SVC-outlier when the services share
one name, else --name is needed; running it again with the same name updates it.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh set outlier kind2/default/reviews kind3/default/reviews --name mgmt-reviews-outlier --consecutive-errors 1 --interval 10s --base-ejection-time 2m',
    '$ kubectl smh set outlier reviews-default-kind2 --max-ejection-percent 50',
  ]
  static override strict = false
  static override args = {
    service: Args.string({description: 'Services: CLUSTER/NS/SVC or discovered names (one or more).', required: false}),
  }
  static override flags = {
    'consecutive-errors': Flags.integer({summary: 'Errors in a row before an endpoint is ejected (default 5).'}),
    interval: Flags.string({summary: 'How often endpoints are checked, e.g. 10s (default 10s).'}),
    'base-ejection-time': Flags.string({summary: 'How long an endpoint stays ejected at first, e.g. 2m (default 30s).'}),
    'max-ejection-percent': Flags.integer({summary: 'At most this % of endpoints ejected (default 100).'}),
    name: Flags.string({summary: 'Name of the TrafficPolicy.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {setOutlier, setOutlierMissing} = await import('../../services/verbs/set-outlier.js')
    const {flags} = this
    await this.runVerb('set outlier', {
      services: this.positionals, name: flags.name, consecutiveErrors: flags['consecutive-errors'], interval: flags.interval,
      baseEjectionTime: flags['base-ejection-time'], maxEjectionPercent: flags['max-ejection-percent'],
    }, setOutlierMissing, setOutlier)
  }
}
