/**
 * `kubectl smh add failoverservice` as a wizard: a name, the backing services one priority at a time, the port,
 * the hostname.
 *
 * Priorities are picked one by one ("1st priority", "2nd priority", ..., then "done") rather than with a checkbox and
 * a reorder step: inquirer has no sortable list, a checkbox's order is the list's order and not the order of the
 * picks, and one select per priority says in its own question what the pick means, with only arrow keys and enter.
 * A picked service leaves the list (no duplicates); for the 2nd priority on, the cursor starts on the same service
 * in another cluster (the usual failover), and "done" is the first entry once one service is picked.
 */
import {input, select} from '@inquirer/prompts'

import type {Choices, ServiceChoice} from '../../services/choices.js'
import {FAILOVER_PROTOCOLS, checkHostname} from '../../services/verbs/add-failoverservice.js'
import {NO_SERVICES, type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, finish, needChoices, ordinal, promptContext, validateHostname, validateName, validatorOf} from './common.js'

export interface AddFailoverServiceFlags extends CommonVerbFlags {
  name: string
  hostname: string
  /** `P[/PROTO]` */
  port: string
  /** `CLUSTER/NS/SVC`, in priority order. */
  backing: string[]
  mesh?: string[]
  consecutiveErrors?: number
  interval?: string
  baseEjectionTime?: string
  noOutlier?: boolean
}

export const addFailoverServiceShape: VerbShape = {
  verb: 'add failoverservice',
  positional: ['name'],
  order: ['hostname', 'port', 'backing', 'mesh', 'consecutiveErrors', 'interval', 'baseEjectionTime', 'noOutlier', ...COMMON_ORDER],
}

const DONE = '\u0000done'

const portsOf = (service: ServiceChoice) => service.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'none'
const describe = (service: ServiceChoice) => `${service.ref}  (${service.name}, ${portsOf(service)})`

/** `9080`, `9080/http`: a port the 1st-priority service has, and a protocol Istio knows. */
export function validateFailoverPort(value: string, primary: ServiceChoice | undefined): true | string {
  const match = /^(\d+)(?:\/([a-z0-9]+))?$/.exec(value.trim().toLowerCase())
  if (!match) return 'a port number, optionally with a protocol: 9080 or 9080/http'
  const number = Number(match[1])
  if (number < 1 || number > 65_535) return 'a port is between 1 and 65535'
  if (match[2] && !FAILOVER_PROTOCOLS.includes(match[2])) return `unknown protocol "${match[2]}": one of ${FAILOVER_PROTOCOLS.join(', ')}`
  if (primary && !primary.ports.some((p) => p.port === number)) return `${primary.ref} has no port ${number} (its ports: ${portsOf(primary)})`
  return true
}

/** Asks for what `given` lacks: name, backing services in priority order, port, hostname; then the plan and "Apply?". */
export async function addFailoverServiceWizard(choices: Choices, given: Partial<AddFailoverServiceFlags>, hooks: WizardHooks = {}): Promise<AddFailoverServiceFlags> {
  const context = promptContext(hooks)
  const name = given.name ?? await input({message: 'Name of the failover service', default: 'reviews-failover', validate: validateName}, context)

  let backing = given.backing
  if (!backing?.length) {
    needChoices(choices.services.length, NO_SERVICES)
    backing = []
    for (;;) {
      const left = choices.services.filter((s) => !backing!.includes(s.ref))
      if (!left.length) break
      const first = choices.services.find((s) => s.ref === backing![0])
      const sibling = first && left.find((s) => s.namespace === first.namespace && s.serviceName === first.serviceName)
      const n = backing.length + 1
      const pick = await select<string>({
        message: backing.length ? `${ordinal(n)} priority (or done: ${backing.join(' > ')})` : '1st priority: the backing service tried first',
        choices: [
          ...(backing.length ? [{value: DONE, name: `done (${backing.length} backing service${backing.length === 1 ? '' : 's'})`}] : []),
          ...left.map((s) => ({value: s.ref, name: describe(s), short: s.ref})),
        ],
        default: sibling?.ref ?? (backing.length ? DONE : undefined),
        pageSize: 10,
      }, context)
      if (pick === DONE) break
      backing.push(pick)
    }
  }

  const primary = choices.services.find((s) => s.ref === backing[0])
  // A port typed without its protocol gets the protocol of that port on the 1st-priority service (http if Istio
  // would call it plain TCP), written out so the command line says what it means.
  const protocolOf = (n: number) => {
    const p = primary?.ports.find((x) => x.port === n)?.protocol
    return p && FAILOVER_PROTOCOLS.includes(p) ? p : 'http'
  }
  let port = given.port
  if (port === undefined) {
    const answer = (await input({
      message: 'Port (and protocol) the failover service listens on',
      default: primary?.ports[0] ? `${primary.ports[0].port}/${protocolOf(primary.ports[0].port)}` : undefined,
      validate: (value) => validateFailoverPort(value, primary),
    }, context)).trim().toLowerCase()
    port = answer.includes('/') ? answer : `${answer}/${protocolOf(Number(answer))}`
  }

  const hostname = given.hostname ?? await input({
    message: 'Hostname clients will call',
    default: `${name}.${primary?.namespace ?? 'default'}.global`,
    // The verb's own check (a name under .global) after the friendlier one for typing mistakes.
    validate: (value) => {
      const typed = validateHostname(value)
      return typed === true ? validatorOf(() => checkHostname(value)) : typed
    },
  }, context)

  return finish(addFailoverServiceShape, {...given, name, hostname, port, backing}, hooks)
}
