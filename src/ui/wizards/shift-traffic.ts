/**
 * `kubectl smh shift traffic` as a wizard: the service whose traffic moves, then either a FailoverService or
 * destinations with weights. Weights are entered one destination at a time with the running total in every
 * question ("50 of 100 so far"); a weight that would pass 100 is refused inline, and the wizard only finishes when
 * the weights add up to exactly 100 ("start over" clears them).
 */
import {number, select} from '@inquirer/prompts'

import type {Choices, ServiceChoice} from '../../services/choices.js'
import {NO_SERVICES, type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, finish, needChoices, promptContext, say, serviceChoices} from './common.js'

export interface ShiftTrafficFlags extends CommonVerbFlags {
  /** `CLUSTER/NS/SVC` or the discovered name. */
  service: string
  /** `CLUSTER/NS/SVC[:LABEL=VALUE]=WEIGHT` */
  to?: string[]
  toFailover?: string
  name?: string
}

export const shiftTrafficShape: VerbShape = {
  verb: 'shift traffic',
  positional: ['service'],
  order: ['to', 'toFailover', 'name', ...COMMON_ORDER],
}

const TO_WEIGHTS = '\u0000weights'
const START_OVER = '\u0000start-over'

/** Every destination `--to` can name: each service, then each of its subsets (`kind2/default/reviews:version=v1`). */
export function destinationsOf(services: ServiceChoice[], first?: ServiceChoice): string[] {
  const same = (s: ServiceChoice) => first !== undefined && s.serviceName === first.serviceName && s.namespace === first.namespace
  const sorted = [...services.filter(same), ...services.filter((s) => !same(s))]
  return sorted.flatMap((s) => [s.ref, ...Object.entries(s.subsets).flatMap(([key, values]) => values.map((v) => `${s.ref}:${key}=${v}`))])
}

/** Asks for what `given` lacks: the service, then a FailoverService or weighted destinations; then the plan. */
export async function shiftTrafficWizard(choices: Choices, given: Partial<ShiftTrafficFlags>, hooks: WizardHooks = {}): Promise<ShiftTrafficFlags> {
  const context = promptContext(hooks)
  needChoices(choices.services.length, NO_SERVICES)
  const service = given.service ?? await select({
    message: 'Shift the traffic of which service?',
    choices: serviceChoices(choices),
    pageSize: 10,
  }, context)
  if (given.to?.length || given.toFailover) return finish(shiftTrafficShape, {...given, service}, hooks)

  const source = choices.services.find((s) => s.ref === service || s.name === service)
  let target = TO_WEIGHTS
  if (choices.failoverServices.length) {
    target = await select({
      message: `Send ${service}'s traffic to`,
      choices: [
        ...choices.failoverServices.map((fs) => ({
          // NAMESPACE/NAME only when the name alone is ambiguous, as --to-failover takes it.
          value: choices.failoverServices.filter((other) => other.name === fs.name).length > 1 ? `${fs.namespace}/${fs.name}` : fs.name,
          name: `failover service ${fs.name}  (${fs.hostname}, ${fs.backing.join(' > ')})`,
          short: `failover service ${fs.name}`,
        })),
        {value: TO_WEIGHTS, name: 'services or subsets, by weight', short: 'by weight'},
      ],
    }, context)
  }
  if (target !== TO_WEIGHTS) return finish(shiftTrafficShape, {...given, service, toFailover: target}, hooks)

  const destinations = destinationsOf(choices.services, source)
  let weights = new Map<string, number>()
  for (;;) {
    const total = [...weights.values()].reduce((a, b) => a + b, 0)
    if (total === 100) break
    const left = destinations.filter((d) => !weights.has(d))
    const pick = await select<string>({
      message: `Destination ${weights.size + 1} (${total} of 100 so far)`,
      // Once a weight is in, "done" (refused until 100) and "start over" come first, in sight; the cursor starts on
      // the first destination left.
      choices: [
        ...(weights.size ? [
          {value: START_OVER, name: 'done', disabled: `(not yet: the weights add up to ${total}, not 100)`},
          {value: START_OVER, name: 'start over (clear the weights)'},
        ] : []),
        ...left.map((d) => ({value: d, name: d})),
      ],
      default: left[0],
      pageSize: 12,
    }, context)
    if (pick === START_OVER) {
      weights = new Map()
      continue
    }
    const remaining = 100 - total
    const weight = await number({
      message: `Weight for ${pick} (${total} of 100 so far, ${remaining} left)`,
      default: remaining,
      required: true,
      step: 1,
      validate: (value) => {
        if (value === undefined || !Number.isInteger(value) || value < 1) return 'a whole number from 1 to 100'
        if (value > remaining) return `${total} + ${value} = ${total + value}, over 100: at most ${remaining} left`
        return true
      },
    }, context)
    weights.set(pick, weight)
    say(hooks, `${total + weight} of 100 so far${total + weight === 100 ? ': done' : ''}`)
  }
  return finish(shiftTrafficShape, {...given, service, to: [...weights].map(([d, w]) => `${d}=${w}`)}, hooks)
}
