/** Completion candidates from the commands' metadata (what oclif's manifest holds). */
import {describe, expect, it} from 'vitest'

import {type CompletionCommand, cobraOutput, complete} from '../../../src/observe/completion.js'

const base = [{name: 'output', char: 'o', type: 'option' as const, options: ['table', 'yaml', 'json']}, {name: 'mgmt-context', type: 'option' as const}, {name: 'json', type: 'boolean' as const}]
const commands: CompletionCommand[] = [
  {id: 'describe', flags: base, args: ['kind', 'name']},
  {id: 'simulate', flags: [...base, {name: 'from', type: 'option'}, {name: 'fail', type: 'option'}], args: ['service']},
  {id: 'set:outlier', flags: base, args: ['service']},
  {id: 'set:route', flags: base, args: ['service']},
  {id: '__complete', hidden: true, flags: [], args: []},
]
const names = async (what: string) => ({cluster: ['kind2', 'kind3'], failoverservice: ['reviews-failover'], context: ['kind1', 'kind2']})[what] ?? []

describe('complete', () => {
  it('command words, then subcommands; hidden commands never', async () => {
    expect(await complete(commands, [''])).toEqual(['describe', 'help', 'set', 'simulate'])
    expect(await complete(commands, ['s'])).toEqual(['set', 'simulate'])
    expect(await complete(commands, ['set', ''])).toEqual(['outlier', 'route'])
  })

  it('flags, flag values (options, clusters, contexts), and names by argument', async () => {
    expect(await complete(commands, ['simulate', 'x', '--f'])).toEqual(['--fail', '--from'])
    expect(await complete(commands, ['simulate', 'x', '--fail', ''], names)).toEqual(['kind2', 'kind3'])
    expect(await complete(commands, ['describe', '-o', ''], names)).toEqual(['json', 'table', 'yaml'])
    expect(await complete(commands, ['describe', '--mgmt-context', 'k'], names)).toEqual(['kind1', 'kind2'])
    expect(await complete(commands, ['describe', ''], names)).toEqual(['cluster', 'failoverservice', 'service', 'trafficpolicy', 'virtualmesh'])
    expect(await complete(commands, ['describe', '-o', 'json', 'fs', ''], names)).toEqual(['reviews-failover'])
    expect(await complete(commands, ['describe', 'cluster', 'kind3'], names)).toEqual(['kind3'])
  })

  it('answers in cobra\'s protocol: one candidate a line, then :4 (no file completion)', () => {
    expect(cobraOutput(['a', 'b'])).toBe('a\nb\n:4')
  })
})
