/** VirtualMesh checks: its meshes exist, trust mode is supported, and each mesh is in at most one VirtualMesh. */
import type {ResourceStatus, VirtualMesh} from '../api/types.js'
import {resourceId} from '../api/types.js'
import type {Mesh} from '../discovery/types.js'
import {type Context, newStatus} from './model.js'
import type {Reachability} from './traffic-policy.js'

export interface AcceptedVirtualMesh {
  resource: VirtualMesh
  id: string
  meshes: Mesh[]
}

export function meshNotFound(context: Context, name: string): string {
  const known = [...context.meshes.keys()]
  return `mesh ${name} not found (discovered meshes: ${known.length ? known.join(', ') : 'none; is istiod in the snapshots?'})`
}

export function checkVirtualMeshes(context: Context): {accepted: AcceptedVirtualMesh[]; statuses: ResourceStatus[]; reach: Reachability} {
  const accepted: AcceptedVirtualMesh[] = []
  const statuses: ResourceStatus[] = []
  const grouped = new Map<string, string>()
  const reach: Reachability = {virtualMeshOf: new Map(), federatedMeshes: new Set()}
  for (const vm of context.virtualMeshes) {
    const status = newStatus(vm)
    statuses.push(status)
    const meshes: Mesh[] = []
    status.meshes = {}
    vm.spec.meshes.forEach((ref, index) => {
      const mesh = context.meshes.get(ref.name)
      if (!mesh) return void status.errors.push(`spec.meshes[${index}]: ${meshNotFound(context, ref.name)}`)
      const other = grouped.get(mesh.name)
      if (other) {
        status.errors.push(`spec.meshes[${index}]: includes mesh ${mesh.name} that is already grouped in ${other}; a mesh can be in one VirtualMesh only`)
        status.meshes![mesh.name] = {state: 'INVALID', errors: [`already grouped in ${other}`]}
        return
      }
      if (!meshes.includes(mesh)) meshes.push(mesh)
    })
    if (vm.spec.mtlsConfig?.limited) status.errors.push('spec.mtlsConfig.limited: limited trust is not supported; use shared')
    if (status.errors.length) {
      status.state = 'INVALID'
      continue
    }
    const id = resourceId(vm)
    for (const mesh of meshes) {
      grouped.set(mesh.name, id)
      reach.virtualMeshOf.set(mesh.name, id)
      status.meshes[mesh.name] = {state: 'ACCEPTED'}
      if (meshes.length > 1 && mesh.gateways.length > 0) reach.federatedMeshes.add(mesh.name)
    }
    accepted.push({resource: vm, id, meshes})
  }
  return {accepted, statuses, reach}
}
