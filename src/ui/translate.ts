import type {ResourceStatus} from '../api/types.js'
import type {IstioObject} from '../translate/index.js'
import {renderTable} from './output.js'

/** The statuses `translate` shows on stderr: one row per SMH resource. */
export function statusTable(statuses: ResourceStatus[]): string {
  return renderTable(statuses, [
    {header: 'kind', get: (s) => s.kind},
    {header: 'namespace', get: (s) => s.namespace},
    {header: 'name', get: (s) => s.name},
    {header: 'state', get: (s) => s.state},
    {header: 'targets', get: (s) => Object.keys(s.trafficTargets ?? s.meshes ?? {}).join(',')},
  ])
}

/** The generated objects as a table (`-o table`): where each goes. */
export function objectTable(items: IstioObject[]): string {
  return renderTable(items, [
    {header: 'cluster', get: (o) => o.metadata.annotations['smh.solo.io/cluster']},
    {header: 'kind', get: (o) => o.kind},
    {header: 'namespace', get: (o) => o.metadata.namespace},
    {header: 'name', get: (o) => o.metadata.name},
  ])
}
