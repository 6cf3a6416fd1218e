/** `kubectl smh allow access` as a wizard: the calling identities (service accounts), then the services they may call. */
import {checkbox, input} from '@inquirer/prompts'

import type {Choices} from '../../services/choices.js'
import {NO_SERVICES, type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, askServices, finish, needChoices, promptContext, serviceNameOf, validateName} from './common.js'

export interface AllowAccessFlags extends CommonVerbFlags {
  /** `CLUSTER/NS/SERVICEACCOUNT` */
  from: string[]
  /** `CLUSTER/NS/SVC` or discovered names. */
  to: string[]
  name?: string
}

export const allowAccessShape: VerbShape = {
  verb: 'allow access',
  positional: [],
  order: ['from', 'to', 'name', ...COMMON_ORDER],
}

export async function allowAccessWizard(choices: Choices, given: Partial<AllowAccessFlags>, hooks: WizardHooks = {}): Promise<AllowAccessFlags> {
  const context = promptContext(hooks)
  if (!given.from?.length) needChoices(choices.serviceAccounts.length, 'discovery found no workload in a mesh in the registered clusters, so no identity to allow: register a cluster with kubectl smh register cluster')
  if (!given.to?.length) needChoices(choices.services.length, NO_SERVICES) // before the first question, not after it
  const from = given.from?.length ? given.from : await checkbox({
    message: 'Allow calls from (service accounts; space to select, enter when done)',
    required: true,
    choices: choices.serviceAccounts.map((a) => ({value: a.ref, name: `${a.ref}  (mesh ${a.mesh})`, short: a.ref})),
    pageSize: 10,
  }, context)
  const to = await askServices(choices, given.to, 'To (services)', hooks)
  // The verb names the policy SERVICEACCOUNT-to-SVC for one of each; otherwise a name is needed.
  const accounts = [...new Set(from.map((ref) => ref.split('/').pop()!))]
  const services = [...new Set(to.map((value) => serviceNameOf(choices, value)))]
  const name = given.name ?? (accounts.length > 1 || services.length > 1
    ? await input({message: 'Name of the AccessPolicy (several identities or services)', default: `${accounts[0]}-to-${services[0]}`, validate: validateName}, context)
    : undefined)
  return finish(allowAccessShape, {...given, from, to, ...(name === undefined ? {} : {name})}, hooks)
}
