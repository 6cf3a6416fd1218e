import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {aliasesOf, parseAliasRecord, planAliases} from '../../../src/trust/aliases.js'

const VM = 'VirtualMesh/service-mesh-hub/virtual-mesh'
const OTHER = 'VirtualMesh/service-mesh-hub/other'
const SEED = 'defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012 # where proxies connect\ntrustDomain: kind3\n'

describe('trust domain aliases merged into a mesh config', () => {
  it('adds the other trust domains, records them as ours, and keeps the rest of the YAML as written', () => {
    const plan = planAliases(SEED, undefined, new Map([[VM, ['kind2']]]))
    expect(plan).toMatchObject({changed: true, added: ['kind2'], removed: [], aliases: ['kind2'], annotation: JSON.stringify({[VM]: ['kind2']})})
    expect(plan.meshYaml.startsWith(SEED)).toBe(true)
    expect(plan.meshYaml).toContain('# where proxies connect')
    expect(aliasesOf(plan.meshYaml)).toEqual(['kind2'])
  })

  it("keeps the user's own aliases, records none of them, and undo removes exactly ours", () => {
    const mine = 'trustDomain: kind3\ntrustDomainAliases: [legacy.example, kind2] # ours, not smh\n'
    const plan = planAliases(mine, undefined, new Map([[VM, ['kind2', 'kind4']]]))
    expect(plan.added).toEqual(['kind4'])
    expect(plan.aliases).toEqual(['legacy.example', 'kind2', 'kind4'])
    expect(parseAliasRecord(plan.annotation!)).toEqual({[VM]: ['kind4']})
    expect(plan.meshYaml).toContain('# ours, not smh')
    const undone = planAliases(plan.meshYaml, plan.annotation!, new Map([[VM, undefined]]))
    expect(undone).toMatchObject({changed: true, removed: ['kind4'], annotation: null, aliases: ['legacy.example', 'kind2']})
    // The same mesh config (a list the user wrote in flow style stays in flow style; yaml re-spaces it).
    expect(parse(undone.meshYaml)).toEqual(parse(mine))
    expect(undone.meshYaml).toContain('# ours, not smh')
  })

  it('undo of the only aliases gives back the mesh config as it was', () => {
    const plan = planAliases(SEED, undefined, new Map([[VM, ['kind2']]]))
    const undone = planAliases(plan.meshYaml, plan.annotation!, new Map([[VM, undefined]]))
    expect(undone.meshYaml).toBe(SEED)
    expect(undone.annotation).toBeNull()
  })

  it('is idempotent: the same wish again changes nothing', () => {
    const plan = planAliases(SEED, undefined, new Map([[VM, ['kind2']]]))
    const again = planAliases(plan.meshYaml, plan.annotation!, new Map([[VM, ['kind2']]]))
    expect(again).toMatchObject({changed: false, added: [], removed: []})
    expect(again.meshYaml).toBe(plan.meshYaml)
  })

  it("leaves other VirtualMeshes' records alone, and an alias two records share stays until both are undone", () => {
    const first = planAliases(SEED, undefined, new Map([[VM, ['kind2']], [OTHER, ['kind2', 'kind5']]]))
    expect(first.aliases).toEqual(['kind2', 'kind5'])
    const one = planAliases(first.meshYaml, first.annotation!, new Map([[OTHER, undefined]]))
    expect(one).toMatchObject({removed: ['kind5'], aliases: ['kind2']})
    expect(parseAliasRecord(one.annotation!)).toEqual({[VM]: ['kind2']})
  })

  it('puts back an alias of ours someone removed (the record says it is ours)', () => {
    const plan = planAliases(SEED, undefined, new Map([[VM, ['kind2']]]))
    const again = planAliases(SEED, plan.annotation!, new Map([[VM, ['kind2']]]))
    expect(again).toMatchObject({changed: true, added: ['kind2']})
  })

  it('refuses a mesh config that is not YAML, and reads an unreadable record as empty', () => {
    expect(() => planAliases('trustDomain: [kind3\n', undefined, new Map([[VM, ['kind2']]]))).toThrow(/not valid YAML/)
    expect(parseAliasRecord('not json')).toEqual({})
    expect(parseAliasRecord('{"a": "b", "c": ["d", 1]}')).toEqual({c: ['d']})
  })
})
