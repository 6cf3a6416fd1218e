import {execFileSync} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import type {ServiceChoice} from '../../../src/services/choices.js'
import {
  WizardDeclined, commandLineFor, destinationsOf, equivalentCommand, flagName, ordinal, shellQuote,
  validateDuration, validateFailoverPort, validateHostname, validateName,
} from '../../../src/ui/wizards/index.js'

/** What a POSIX shell makes of a command line: its words. */
const shellWords = (line: string): string[] => execFileSync('sh', ['-c', `printf '%s\\0' ${line}`], {encoding: 'utf8'}).split('\0').slice(0, -1)

describe('the equivalent command line', () => {
  it('quotes only what a shell would change, and a shell reads back exactly the words', () => {
    const tricky = ["it's", 'two words', '$HOME', '`id`', 'a"b', '*', '', 'back\\slash', 'semi;colon', 'new\nline', 'tab\there', '~user', '#hash']
    for (const word of tricky) expect(shellWords(shellQuote(word)), word).toEqual([word])
    expect(shellQuote('kind2/default/reviews:version=v1=50')).toBe('kind2/default/reviews:version=v1=50')
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('two words')).toBe(`'two words'`)
    expect(shellQuote('')).toBe(`''`)
  })

  it('puts the verb, the arguments, then each flag (arrays repeated in order, true bare, false and empty left out)', () => {
    const line = equivalentCommand('add failoverservice', ['reviews-failover'], {
      hostname: 'reviews-failover.default.global', port: '9080/http', backing: ['kind2/default/reviews', 'kind3/default/reviews'],
      noOutlier: true, autoRestartPods: false, mesh: [], interval: undefined, consecutiveErrors: 3,
    })
    expect(line).toBe('kubectl smh add failoverservice reviews-failover --hostname reviews-failover.default.global --port 9080/http '
      + '--backing kind2/default/reviews --backing kind3/default/reviews --no-outlier --consecutive-errors 3')
  })

  it('round-trips values with spaces and quotes through a shell', () => {
    const line = equivalentCommand('set route', ["my svc's"], {name: 'a "quoted" name', timeout: '5s', kubeconfig: '/tmp/my dir/config', dashy: '-x'})
    expect(shellWords(line)).toEqual(['kubectl', 'smh', 'set', 'route', "my svc's", '--name', 'a "quoted" name', '--timeout', '5s', '--kubeconfig', '/tmp/my dir/config', '--dashy=-x'])
  })

  it('places positional flags as arguments and orders flags as the verb lists them, globals last', () => {
    expect(commandLineFor('shift traffic', {toFailover: 'reviews-failover', service: 'kind2/default/reviews'}, {mgmtContext: 'kind1'}))
      .toBe('kubectl smh shift traffic kind2/default/reviews --to-failover reviews-failover --mgmt-context kind1')
    expect(commandLineFor('set outlier', {consecutiveErrors: 1, services: ['kind2/default/reviews', 'kind3/default/reviews']}))
      .toBe('kubectl smh set outlier kind2/default/reviews kind3/default/reviews --consecutive-errors 1')
    expect(commandLineFor('create virtualmesh', {noFederation: true, mesh: ['m1'], name: 'vm'})).toBe('kubectl smh create virtualmesh vm --mesh m1 --no-federation')
    expect(flagName('perTryTimeout')).toBe('--per-try-timeout')
  })
})

describe('what the wizards check as you type', () => {
  it('hostnames are DNS names with a domain', () => {
    expect(validateHostname('reviews-failover.default.global')).toBe(true)
    expect(validateHostname('Reviews.global')).toBe('lower case only: reviews.global')
    expect(validateHostname('reviews')).toContain('needs a domain')
    expect(validateHostname('re_views.global')).toContain('"re_views" is not a DNS label')
    expect(validateHostname('-a.global')).toContain('not a DNS label')
    expect(validateHostname('a..b')).toContain('(empty)')
    expect(validateHostname(`${'a'.repeat(64)}.global`)).toContain('at most 63')
  })

  it('resource names are RFC 1123 subdomains', () => {
    expect(validateName('virtual-mesh')).toBe(true)
    expect(validateName('')).toBe('a name is required')
    expect(validateName('VM')).toBe('lower case only: vm')
    expect(validateName('vm_1')).not.toBe(true)
  })

  it('a failover port is one the 1st-priority service has, with a known protocol', () => {
    const reviews = {ref: 'kind2/default/reviews', ports: [{port: 9080, protocol: 'http'}]} as ServiceChoice
    expect(validateFailoverPort('9080', reviews)).toBe(true)
    expect(validateFailoverPort('9080/http', reviews)).toBe(true)
    expect(validateFailoverPort('9081', reviews)).toBe('kind2/default/reviews has no port 9081 (its ports: 9080/http)')
    expect(validateFailoverPort('9080/udp', reviews)).toContain('unknown protocol "udp"')
    expect(validateFailoverPort('http', reviews)).toContain('a port number')
    expect(validateFailoverPort('70000', reviews)).toContain('between 1 and 65535')
  })

  it('durations need a unit; optional ones may be empty', () => {
    expect(validateDuration('10s')).toBe(true)
    expect(validateDuration('1.5m')).toBe(true)
    expect(validateDuration('10')).toContain('with a unit')
    expect(validateDuration('')).not.toBe(true)
    expect(validateDuration('', true)).toBe(true)
  })

  it('ordinals for the priorities', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '101st', '111th'])
  })

  it('shift traffic offers the source service\'s namesakes first, each followed by its subsets', () => {
    const s = (ref: string, subsets: Record<string, string[]> = {}) => {
      const [cluster, namespace, serviceName] = ref.split('/')
      return {ref, cluster, namespace, serviceName, subsets} as ServiceChoice
    }
    const services = [s('kind2/default/details'), s('kind2/default/reviews', {version: ['v1', 'v2']}), s('kind3/default/reviews', {version: ['v3']})]
    expect(destinationsOf(services, services[1])).toEqual([
      'kind2/default/reviews', 'kind2/default/reviews:version=v1', 'kind2/default/reviews:version=v2',
      'kind3/default/reviews', 'kind3/default/reviews:version=v3', 'kind2/default/details',
    ])
  })
})

describe('when a wizard opens', () => {
  it('a declined wizard is a quiet exit 0 for BaseCommand.catch', () => {
    const declined = new WizardDeclined()
    expect(declined.oclif.exit).toBe(0)
    expect(declined.name).toBe('WizardDeclined')
  })
})
