import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, inject, it} from 'vitest'

import {binaryPath} from '../../src/controlplane/binaries.js'
import {discoverCluster} from '../../src/discovery/index.js'
import {SNAPSHOT_COMMAND} from '../../src/discovery/kinds.js'
import {FIXTURE_SNAPSHOTS, snapshotObjects} from '../support/golden.js'

// The offline path (translate --snapshot) and the live clusters must agree: what the real kubectl prints for the
// seeded clusters is discovered exactly as the committed fixture snapshots are. The arguments are the very line the
// docs tell users to run (`kubectl get ... -A -o yaml`), without its leading `kubectl`.
const SNAPSHOT_ARGS = SNAPSHOT_COMMAND.split(' ').slice(1)

describe('a kubectl snapshot of the live seeded clusters', () => {
  it.each(['kind2', 'kind3'])('%s is discovered as its fixture snapshot is', async (cluster) => {
    const dump = execFileSync(binaryPath('kubectl'), ['--kubeconfig', inject('kubeconfig'), '--context', cluster, ...SNAPSHOT_ARGS], {encoding: 'utf8', maxBuffer: 64 * 2 ** 20})
    // What a user does: kubectl get ... > kind2.yaml, then translate --snapshot kind2=kind2.yaml.
    const file = join(mkdtempSync(join(tmpdir(), 'smh-dump-')), `${cluster}.yaml`)
    writeFileSync(file, dump)
    const liveObjects = await snapshotObjects(file)
    const offlineObjects = await snapshotObjects(join(FIXTURE_SNAPSHOTS, `${cluster}.yaml`))
    // The fixture holds what the command prints, kind for kind (ReplicaSets included).
    const kinds = (objects: {kind: string}[]) => [...new Set(objects.map((o) => o.kind))].sort()
    expect(kinds(liveObjects)).toEqual(kinds(offlineObjects))
    const live = discoverCluster(cluster, liveObjects)
    const offline = discoverCluster(cluster, offlineObjects)
    expect(live.services.map((s) => s.name)).toContain(`reviews-default-${cluster}`)
    expect(live).toEqual(offline)
  })
})
