import {readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import Translate from '../../../src/commands/translate.js'
import {DISCOVERED_KINDS, SNAPSHOT_COMMAND} from '../../../src/discovery/kinds.js'
import {FIXTURE_SNAPSHOTS, snapshotObjects} from '../../support/golden.js'

const repo = resolve(import.meta.dirname, '../../..')

describe('the kinds discovery reads (src/discovery/kinds.ts) are what snapshots hold and the docs say', () => {
  it.each(['kind2', 'kind3'])('the %s fixture snapshot holds those kinds of the seed and no other (ReplicaSets included)', async (cluster) => {
    const objects = await snapshotObjects(join(FIXTURE_SNAPSHOTS, `${cluster}.yaml`))
    const held = [...new Set(objects.map((o) => `${o.apiVersion}/${o.kind}`))].sort()
    const listed = DISCOVERED_KINDS.map((k) => `${k.apiVersion}/${k.kind}`)
    // The seed has no DaemonSet, StatefulSet or Istio Gateway: what kubectl would list from the live seed.
    expect(held).toEqual(['apps/v1/Deployment', 'apps/v1/ReplicaSet', 'v1/ConfigMap', 'v1/Pod', 'v1/Service'])
    expect(held.filter((k) => !listed.includes(k))).toEqual([])
  })
  it('names Istio\'s gateways fully qualified: `kubectl get gateways` is ambiguous with the Gateway API', () => {
    expect(SNAPSHOT_COMMAND).toContain(',gateways.networking.istio.io,')
    expect(SNAPSHOT_COMMAND).toMatch(/^kubectl get \S+ -A -o yaml$/)
  })
  it.each(['README.md', 'src/translate/README.md'])('%s gives the snapshot command', (file) => {
    expect(readFileSync(join(repo, file), 'utf8').replace(/ \\\n\s*/g, ' ')).toContain(SNAPSHOT_COMMAND.replace(' -A -o yaml', ''))
  })
  it('translate --help gives the snapshot command', () => {
    expect(Translate.description).toContain(SNAPSHOT_COMMAND)
  })
})
