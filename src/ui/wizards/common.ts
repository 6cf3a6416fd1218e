/**
 * What every wizard shares: the prompt context (drawn on stderr, so stdout stays data for -o json), the ending
 * (the --dry-run plan, "Apply? (y/N)", the equivalent command line), validators, and how a declined wizard exits.
 */
import {checkbox, confirm, input} from '@inquirer/prompts'

import type {Choices} from '../../services/choices.js'

import {UsageError} from '../../errors.js'
import {type FlagValue, equivalentCommand} from './command-line.js'

export interface WizardHooks {
  /**
   * Returns the plan to show before "Apply?" (the command's --dry-run output for these flags). Without it the
   * wizard asks nothing at the end and returns the flags (use that when the user already gave --dry-run).
   */
  confirm?: (flags: Record<string, unknown>) => Promise<string>
  /**
   * Flags outside the verb's own that belong in the printed command line, in camelCase
   * (`{mgmtContext: 'kind1', namespace: 'smh'}`): printed after the verb's flags.
   */
  globals?: Record<string, FlagValue>
  /** Where prompts read and draw (default: process.stdin, process.stderr). */
  input?: NodeJS.ReadableStream
  output?: NodeJS.WritableStream
  /** Aborts the open prompt (it then rejects with AbortPromptError). */
  signal?: AbortSignal
}

/**
 * The user answered "no" to "Apply?": nothing was written, exit 0. It carries `oclif.exit = 0`, which
 * BaseCommand.catch already treats as a quiet successful exit.
 */
export class WizardDeclined extends Error {
  readonly oclif = {exit: 0}
  readonly exitCode = 0
  constructor() {
    super('not applied')
    this.name = 'WizardDeclined'
  }
}

export const promptContext = (hooks: WizardHooks) => ({
  input: hooks.input,
  output: hooks.output ?? process.stderr,
  ...(hooks.signal ? {signal: hooks.signal} : {}),
})

export const say = (hooks: WizardHooks, text: string) => (hooks.output ?? process.stderr).write(`${text}\n`)

/**
 * A question with nothing to pick cannot be answered (inquirer would fail on a list with no enabled entry): exit 2
 * with what is missing and how to get it.
 */
export function needChoices(count: number, message: string): void {
  if (count === 0) throw new UsageError(message)
}

export const NO_SERVICES = 'discovery found no service in a mesh in the registered clusters: register a cluster with kubectl smh register cluster, or check kubectl smh sync --dry-run'

/** 1st, 2nd, 3rd, 4th, 11th, 12th, 21st... */
export function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({1: 'st', 2: 'nd', 3: 'rd'} as Record<number, string>)[n % 10] ?? 'th'
  return `${n}${suffix}`
}

/** The flags every verb has (src/verb-command.ts): kept in the returned flags and the printed command line. */
export interface CommonVerbFlags {
  namespace?: string
  noSync?: boolean
  forceConflicts?: boolean
  dryRun?: boolean
}

/** Their order on the command line, after the verb's own. */
export const COMMON_ORDER = ['namespace', 'noSync', 'forceConflicts', 'dryRun']

/** How a wizard describes one verb: enough for the command line, the no-TTY error, and the order of flags. */
export interface VerbShape {
  /** `add failoverservice` */
  verb: string
  /** Flags that are positional arguments, in order (`name` for NAME, `service`, `services`). */
  positional: string[]
  /** The verb's flags in the order the command line prints them. */
  order: string[]
}

/** The flags in the verb's order (unknown keys, such as globals the caller put in `given`, after them). */
export function ordered<T extends object>(shape: VerbShape, flags: T): T {
  const entries = Object.entries(flags).filter(([, v]) => v !== undefined)
  const rank = (key: string) => {
    const i = [...shape.positional, ...shape.order].indexOf(key)
    return i < 0 ? Number.MAX_SAFE_INTEGER : i
  }
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b))) as T
}

/** The `kubectl smh ...` line for a verb's flags (positional ones as arguments), globals last. */
export function commandLineOf(shape: VerbShape, flags: object, globals: Record<string, FlagValue> = {}): string {
  const all = ordered(shape, flags) as Record<string, FlagValue>
  const args = shape.positional.flatMap((key) => {
    const value = all[key]
    return value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]
  })
  const rest = Object.fromEntries(Object.entries(all).filter(([key]) => !shape.positional.includes(key)))
  return equivalentCommand(shape.verb, args, {...rest, ...globals})
}

/**
 * The wizard's ending: show the plan, ask "Apply? (y/N)"; no → say nothing was written, print the command for
 * later, throw WizardDeclined (exit 0); yes (or no plan hook) → print "Next time: ..." and return the flags.
 */
export async function finish<T extends object>(shape: VerbShape, flags: T, hooks: WizardHooks): Promise<T> {
  const result = ordered(shape, flags)
  const line = commandLineOf(shape, result, hooks.globals)
  if (hooks.confirm) {
    const plan = await hooks.confirm(result as Record<string, unknown>)
    if (plan.trim() !== '') say(hooks, plan.replace(/\n+$/, ''))
    const apply = await confirm({message: 'Apply?', default: false}, promptContext(hooks))
    if (!apply) {
      say(hooks, 'Not applied: nothing was written.')
      say(hooks, `To apply it later: ${line}`)
      throw new WizardDeclined()
    }
  }
  say(hooks, `Next time: ${line}`)
  return result
}

// Validators: true, or the message inquirer shows under the answer (the prompt stays open until it is fixed).

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** A Kubernetes object name (RFC 1123 subdomain). */
export function validateName(value: string): true | string {
  if (value === '') return 'a name is required'
  if (value.length > 253) return `at most 253 characters (this is ${value.length})`
  if (/[A-Z]/.test(value)) return `lower case only: ${value.toLowerCase()}`
  if (!value.split('.').every((label) => DNS_LABEL.test(label))) return 'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit'
  return true
}

/** A DNS hostname: dot-separated labels of lower-case letters, digits and "-", at least two labels. */
export function validateHostname(value: string): true | string {
  if (value === '') return 'a hostname is required, e.g. reviews.global'
  if (/[A-Z]/.test(value)) return `lower case only: ${value.toLowerCase()}`
  if (value.length > 253) return `at most 253 characters (this is ${value.length})`
  const labels = value.split('.')
  const bad = labels.find((label) => !DNS_LABEL.test(label) || label.length > 63)
  if (bad !== undefined) return `"${bad || '(empty)'}" is not a DNS label: lower-case letters, digits and "-", at most 63, not starting or ending with "-"`
  if (labels.length < 2) return `a hostname needs a domain, e.g. ${value}.global`
  return true
}

/** A duration as the verbs take it: 500ms, 10s, 2m, 1h. */
export function validateDuration(value: string, optional = false): true | string {
  if (value === '' && optional) return true
  return /^\d+(\.\d+)?(ms|s|m|h)$/.test(value) ? true : 'a duration with a unit: 500ms, 10s, 2m, 1h'
}

/**
 * The policy's name when the verb has no default for it (services with different names): asked, with the verb's
 * usual `<first>-<suffix>` offered. Undefined when the verb's default applies or --name was given.
 */
export async function askPolicyName(choices: Choices, given: string | undefined, services: string[], suffix: string, hooks: WizardHooks, what = 'TrafficPolicy'): Promise<string | undefined> {
  if (given !== undefined) return given
  const names = [...new Set(services.map((value) => serviceNameOf(choices, value)))]
  if (names.length <= 1) return undefined
  return input({message: `Name of the ${what} (the services have different names: ${names.join(', ')})`, default: `${names[0]}-${suffix}`, validate: validateName}, promptContext(hooks))
}

/** The services discovery found, as choices: `kind2/default/reviews  (reviews-default-kind2)`. */
export const serviceChoices = (choices: Choices) => choices.services.map((s) => ({value: s.ref, name: `${s.ref}  (${s.name})`, short: s.ref}))

/** The services a policy verb applies to: `given` when typed, else picked from what discovery found. */
export async function askServices(choices: Choices, given: string[] | undefined, message: string, hooks: WizardHooks): Promise<string[]> {
  if (given?.length) return given
  needChoices(choices.services.length, NO_SERVICES)
  return checkbox({message: `${message} (space to select, enter when done)`, required: true, choices: serviceChoices(choices), pageSize: 10}, promptContext(hooks))
}

/** `reviews` for `kind2/default/reviews` or the discovered name `reviews-default-kind2`. */
export function serviceNameOf(choices: Choices, value: string): string {
  return choices.services.find((s) => s.ref === value || s.name === value)?.serviceName ?? value.split('/').pop()!
}

/** A verb service's check as a validator: true, or the UsageError's message (the verb's own words, inline). */
export function validatorOf(check: () => unknown): true | string {
  try {
    check()
    return true
  } catch (error) {
    if (error instanceof UsageError) return error.message
    throw error
  }
}
