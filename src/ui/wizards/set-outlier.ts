/** `kubectl smh set outlier` as a wizard: the services, then each knob with Service Mesh Hub's default offered. */
import {input, number} from '@inquirer/prompts'

import type {Choices} from '../../services/choices.js'
import {type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, askPolicyName, askServices, finish, promptContext, validateDuration} from './common.js'

export interface SetOutlierFlags extends CommonVerbFlags {
  services: string[]
  consecutiveErrors?: number
  interval?: string
  baseEjectionTime?: string
  maxEjectionPercent?: number
  name?: string
}

export const setOutlierShape: VerbShape = {
  verb: 'set outlier',
  positional: ['services'],
  order: ['consecutiveErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'name', ...COMMON_ORDER],
}

/** Service Mesh Hub's defaults (translate/traffic-policy.ts): an answer equal to one is left out of the flags. */
export const OUTLIER_DEFAULTS = {consecutiveErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100} as const

/**
 * Asks for the services when `given` has none, then for each knob not given, with Service Mesh Hub's default
 * offered (enter keeps it). Answers equal to the default are left out of the flags, so the command line stays short
 * and means the same.
 */
export async function setOutlierWizard(choices: Choices, given: Partial<SetOutlierFlags>, hooks: WizardHooks = {}): Promise<SetOutlierFlags> {
  const context = promptContext(hooks)
  const services = await askServices(choices, given.services, 'Services to eject failing endpoints from', hooks)
  const name = await askPolicyName(choices, given.name, services, 'outlier', hooks)
  const consecutiveErrors = given.consecutiveErrors ?? await number({
    message: 'Consecutive errors before an endpoint is ejected', default: OUTLIER_DEFAULTS.consecutiveErrors, required: true, min: 1, step: 1,
  }, context)
  const interval = given.interval ?? await input({message: 'How often endpoints are checked', default: OUTLIER_DEFAULTS.interval, validate: (v) => validateDuration(v)}, context)
  const baseEjectionTime = given.baseEjectionTime ?? await input({message: 'Base ejection time', default: OUTLIER_DEFAULTS.baseEjectionTime, validate: (v) => validateDuration(v)}, context)
  const maxEjectionPercent = given.maxEjectionPercent ?? await number({
    message: 'At most this % of endpoints ejected', default: OUTLIER_DEFAULTS.maxEjectionPercent, required: true, min: 0, max: 100, step: 1,
  }, context)
  const unlessDefault = <K extends keyof typeof OUTLIER_DEFAULTS>(key: K, value: SetOutlierFlags[K]) =>
    given[key] !== undefined || value !== OUTLIER_DEFAULTS[key] ? {[key]: value} : {}
  return finish(setOutlierShape, {
    ...given,
    services,
    ...(name === undefined ? {} : {name}),
    ...unlessDefault('consecutiveErrors', consecutiveErrors),
    ...unlessDefault('interval', interval),
    ...unlessDefault('baseEjectionTime', baseEjectionTime),
    ...unlessDefault('maxEjectionPercent', maxEjectionPercent),
  }, hooks)
}
