/**
 * Service Mesh Hub's proto field names (its OSM guide's snake_case YAML) through the built CLI: translated as the
 * camelCase fields, with a `note:` line per renamed field on stderr; one field in both spellings exits 2.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {describe, expect, it} from 'vitest'

import {runCli} from '../support/cli.js'

const CASE = resolve(import.meta.dirname, '../golden/proto-spellings')
const SNAPSHOT = ['--snapshot', `mgmt-cluster=${join(CASE, 'mgmt-cluster.yaml')}`]

describe('kubectl smh translate reads Service Mesh Hub\'s proto (snake_case) field names', () => {
  it('translates the OSM guide\'s YAML and says on stderr what it normalised, as note: lines', async () => {
    const result = await runCli(['translate', '-f', join(CASE, 'input.yaml'), ...SNAPSHOT])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('kind: VirtualService')
    expect(result.stdout).toContain('host: bookstore-v2.bookstore.svc.cluster.local')
    expect(result.stdout).toContain('mgmt-cluster/ns/bookthief/sa/bookthief')
    const notes = result.stderr.split('\n').filter((line) => line.startsWith('note: '))
    expect(notes).toHaveLength(16)
    expect(notes).toContain(`note: ${join(CASE, 'input.yaml')}:8: AccessPolicy/default/bookthief: spec.destination_selector → destinationSelector`)
    expect(notes).toContain(`note: ${join(CASE, 'input.yaml')}:32: TrafficPolicy/default/bookstore: spec.trafficShift.destinations[0].kube_service → kubeService`)
    expect(result.stderr).toMatch(/TrafficPolicy\s+default\s+bookstore\s+ACCEPTED/)
  })

  it('camelCase input gives no notes', async () => {
    const result = await runCli(['translate', '-f', resolve(import.meta.dirname, '../golden/discovery-bare-pods/input.yaml'), '--snapshot', `kind2=${resolve(import.meta.dirname, '../golden/discovery-bare-pods/kind2.yaml')}`])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).not.toContain('note:')
  })

  it('a field in both spellings in one object: exit 2, one line saying where and which, nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smh-spelling-'))
    const file = join(dir, 'both.yaml')
    writeFileSync(
      file,
      'apiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: bookstore, namespace: default}\nspec:\n' +
        '  destinationSelector:\n  - kubeServiceRefs:\n      services: [{name: bookstore, namespace: bookstore, clusterName: mgmt-cluster}]\n' +
        '  destination_selector:\n  - kube_service_refs:\n      services: [{name: bookstore, namespace: bookstore, cluster_name: mgmt-cluster}]\n',
    )
    const result = await runCli(['translate', '-f', file, ...SNAPSHOT])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const problems = result.stderr.split('\n').filter((line) => line.includes('given twice'))
    expect(problems).toEqual([expect.stringContaining(`${file}:8: TrafficPolicy/default/bookstore: spec.destinationSelector: given twice, as destinationSelector and as destination_selector (its proto spelling); keep one`)])
  })
})
