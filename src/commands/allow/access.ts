import {Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class AllowAccess extends VerbCommand<typeof AllowAccess> {
  static override summary = 'Allow workloads (by service account) to call services, then sync.'
  static override description = `Writes an AccessPolicy: the identities --from (CLUSTER/NS/SERVICEACCOUNT, service accounts of discovered workloads)
may call the services --to (CLUSTER/NS/SVC or discovered names); then syncs, as apply -f would. In Istio, a service
with an allow policy refuses calls no policy allows. The policy is named SERVICEACCOUNT-to-SVC for one of each,
else --name is needed; running it again with the same name updates it.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh allow access --from kind2/default/bookinfo-productpage --to kind3/default/reviews',
  ]
  static override flags = {
    from: Flags.string({summary: 'An identity CLUSTER/NS/SERVICEACCOUNT; repeat for more.', multiple: true}),
    to: Flags.string({summary: 'A service CLUSTER/NS/SVC or discovered name; repeat for more.', multiple: true}),
    name: Flags.string({summary: 'Name of the AccessPolicy.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {allowAccess, allowAccessMissing} = await import('../../services/verbs/allow-access.js')
    const {flags} = this
    await this.runVerb('allow access', {from: flags.from, to: flags.to, name: flags.name}, allowAccessMissing, allowAccess)
  }
}
