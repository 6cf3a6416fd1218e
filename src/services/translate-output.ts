import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {stringify} from 'yaml'

import type {IstioObject} from '../translate/index.js'

/** GitOps layout: DIR/<cluster>/<kind>-<namespace>-<name>.yaml, one object per file. Returns the paths written. */
export async function writeManifests(dir: string, clusters: Record<string, IstioObject[]>): Promise<string[]> {
  const written: string[] = []
  for (const [cluster, objects] of Object.entries(clusters)) {
    await mkdir(join(dir, cluster), {recursive: true})
    for (const object of objects) {
      const path = join(dir, cluster, `${object.kind.toLowerCase()}-${object.metadata.namespace}-${object.metadata.name}.yaml`)
      await writeFile(path, stringify(object, {lineWidth: 0, aliasDuplicateObjects: false}))
      written.push(path)
    }
  }
  return written
}
