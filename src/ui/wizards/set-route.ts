/** `kubectl smh set route` as a wizard: the services, then a request timeout and/or retries. */
import {input, number} from '@inquirer/prompts'

import type {Choices} from '../../services/choices.js'
import {type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, askPolicyName, askServices, finish, promptContext, say, validateDuration} from './common.js'

export interface SetRouteFlags extends CommonVerbFlags {
  services: string[]
  timeout?: string
  retries?: number
  perTryTimeout?: string
  name?: string
}

export const setRouteShape: VerbShape = {
  verb: 'set route',
  positional: ['services'],
  order: ['timeout', 'retries', 'perTryTimeout', 'name', ...COMMON_ORDER],
}

/** Asks for the services when none are given, then timeout and retries (empty: none) until at least one is set. */
export async function setRouteWizard(choices: Choices, given: Partial<SetRouteFlags>, hooks: WizardHooks = {}): Promise<SetRouteFlags> {
  const context = promptContext(hooks)
  const services = await askServices(choices, given.services, 'Services whose routes to set', hooks)
  const name = await askPolicyName(choices, given.name, services, 'route', hooks)
  let {timeout, retries, perTryTimeout} = given
  if (timeout === undefined && retries === undefined && perTryTimeout === undefined) {
    for (;;) {
      const t = await input({message: 'Request timeout (e.g. 5s; empty for none)', validate: (v) => validateDuration(v.trim(), true)}, context)
      timeout = t.trim() || undefined
      retries = await number({message: 'Retries (empty for none)', required: false, min: 0, max: 100, step: 1}, context)
      if (retries) {
        const p = await input({message: 'Timeout per try (e.g. 2s; empty for none)', validate: (v) => validateDuration(v.trim(), true)}, context)
        perTryTimeout = p.trim() || undefined
      }
      if (timeout !== undefined || retries !== undefined) break
      say(hooks, 'Nothing to set: give a timeout, retries, or both.')
    }
  }
  return finish(setRouteShape, {...given, services, ...(name === undefined ? {} : {name}), timeout, retries, perTryTimeout}, hooks)
}
