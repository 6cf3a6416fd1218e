import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, inject, it} from 'vitest'
import {parse} from 'yaml'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {discoverCluster, type KubeObject} from '../../src/discovery/index.js'

// The offline path (translate --snapshot) and the live clusters must agree: what the real kubectl prints for the
// seeded clusters is discovered exactly as the committed fixture snapshots are.
const SNAPSHOT_KINDS = 'namespaces,deployments,daemonsets,statefulsets,pods,services,serviceaccounts,configmaps'

function fixture(cluster: string): KubeObject[] {
  const file = fileURLToPath(new URL(`../fixtures/snapshots/${cluster}.yaml`, import.meta.url))
  return (parse(readFileSync(file, 'utf8')) as {items: KubeObject[]}).items
}

describe('a kubectl snapshot of the live seeded clusters', () => {
  it.each(['kind2', 'kind3'])('%s is discovered as its fixture snapshot is', (cluster) => {
    const dump = execFileSync(binaryPath('kubectl'), ['--kubeconfig', inject('kubeconfig'), '--context', cluster, 'get', SNAPSHOT_KINDS, '-A', '-o', 'yaml'], {encoding: 'utf8', maxBuffer: 64 * 2 ** 20})
    const live = discoverCluster(cluster, (parse(dump) as {items: KubeObject[]}).items)
    const offline = discoverCluster(cluster, fixture(cluster))
    expect(live.services.map((s) => s.name)).toContain(`reviews-default-${cluster}`)
    expect(live).toEqual(offline)
  })
})
