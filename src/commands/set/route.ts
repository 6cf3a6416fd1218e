import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class SetRoute extends VerbCommand<typeof SetRoute> {
  static override summary = 'Set a request timeout and retries on services, then sync.'
  static override description = `Writes a TrafficPolicy with requestTimeout and retries for each SERVICE (CLUSTER/NS/SVC or discovered name) and
syncs, as apply -f would. The policy is named SVC-route when the services share one name, else --name is needed;
running it again with the same name updates it.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh set route kind2/default/ratings --timeout 2s --retries 3 --per-try-timeout 500ms',
  ]
  static override strict = false
  static override args = {
    service: Args.string({description: 'Services: CLUSTER/NS/SVC or discovered names (one or more).', required: false}),
  }
  static override flags = {
    timeout: Flags.string({summary: 'Request timeout, e.g. 2s.'}),
    retries: Flags.integer({summary: 'Retry attempts.'}),
    'per-try-timeout': Flags.string({summary: 'Timeout of each attempt, e.g. 500ms (with --retries).'}),
    name: Flags.string({summary: 'Name of the TrafficPolicy.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {setRoute, setRouteMissing} = await import('../../services/verbs/set-route.js')
    const {flags} = this
    await this.runVerb('set route', {services: this.positionals, timeout: flags.timeout, retries: flags.retries, perTryTimeout: flags['per-try-timeout'], name: flags.name}, setRouteMissing, setRoute)
  }
}
