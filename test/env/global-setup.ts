import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {TestProject} from 'vitest/node'

import {startControlPlanes} from '../../src/controlplane/control-plane.js'
import {istioCrdsFile, seedBlogClusters} from '../../src/services/demo/index.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A kubeconfig with contexts kind1 (management, empty), kind2 and kind3 (Istio + bookinfo as in the blog). */
    kubeconfig: string
    clusters: string[]
  }
}

export const TEST_CLUSTERS = ['kind1', 'kind2', 'kind3']

/** Starts the real control planes once for the integration suite and stops them afterwards, pass or fail. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'smh-it-'))
  const started = Date.now()
  const plane = await startControlPlanes({clusters: TEST_CLUSTERS, dir, crdsFile: istioCrdsFile()})
  try {
    await seedBlogClusters(plane.state.kubeconfig, TEST_CLUSTERS)
  } catch (error) {
    await plane.stop()
    throw error
  }
  process.stderr.write(`[global-setup] ${TEST_CLUSTERS.length} clusters up and seeded in ${((Date.now() - started) / 1000).toFixed(1)}s (${dir})\n`)
  project.provide('kubeconfig', plane.state.kubeconfig)
  project.provide('clusters', TEST_CLUSTERS)
  return async () => {
    // Stops what state.json records at this point, so a server a test restarted (new pid) is stopped too.
    await plane.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}
