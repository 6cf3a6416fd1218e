/** VirtualMesh checks: its meshes exist, trust mode is supported, and each mesh is in at most one VirtualMesh. */
import type {FederationMode, ResourceStatus, VirtualMesh} from '../api/types.js'
import {federationMode, resourceId} from '../api/types.js'
import type {Mesh} from '../discovery/types.js'
import {type Context, keyOf, newStatus} from './model.js'
import {selectServices} from './selectors.js'
import type {Reachability} from './traffic-policy.js'

export interface AcceptedVirtualMesh {
  resource: VirtualMesh
  id: string
  meshes: Mesh[]
  /** `permissive` for SMH's YAML (`federation: {}` or none at all), else what spec.federation says. */
  federation: FederationMode
  /** mode `selectors`: per selector, the keys of the services it picks and the member meshes they go to. */
  selected?: {serviceKeys: Set<string>; meshes: Mesh[]}[]
}

export function meshNotFound(context: Context, name: string): string {
  const known = [...context.meshes.keys()]
  return `mesh ${name} not found (discovered meshes: ${known.length ? known.join(', ') : 'none; is istiod in the snapshots?'})`
}

export function checkVirtualMeshes(context: Context): {accepted: AcceptedVirtualMesh[]; statuses: ResourceStatus[]; reach: Reachability} {
  const accepted: AcceptedVirtualMesh[] = []
  const statuses: ResourceStatus[] = []
  const grouped = new Map<string, string>()
  const reach: Reachability = {virtualMeshOf: new Map(), federatedMeshes: new Set(), unfederatedMeshes: new Set()}
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
    const federation = federationMode(vm.spec)
    let selected: AcceptedVirtualMesh['selected']
    if (federation === 'selectors') {
      selected = []
      for (const [index, selector] of (vm.spec.federation?.selectors ?? []).entries()) {
        const field = `spec.federation.selectors[${index}]`
        const targets: Mesh[] = []
        for (const [refIndex, ref] of (selector.meshes ?? []).entries()) {
          const mesh = meshes.find((m) => m.name === ref.name)
          if (mesh) targets.push(mesh)
          else status.errors.push(`${field}.meshes[${refIndex}]: mesh ${ref.name} is not a member of this VirtualMesh (members: ${vm.spec.meshes.map((m) => m.name).join(', ')})`)
        }
        const picked = selectServices(context, selector.trafficTargetSelectors, `${field}.trafficTargetSelectors`)
        status.errors.push(...picked.errors)
        if (picked.warnings.length) status.warnings = [...(status.warnings ?? []), ...picked.warnings]
        const members = new Set(meshes.map((m) => m.name))
        selected.push({serviceKeys: new Set(picked.services.filter((s) => members.has(s.mesh)).map(keyOf)), meshes: targets.length ? targets : meshes})
      }
    }
    if (status.errors.length) {
      status.state = 'INVALID'
      continue
    }
    const id = resourceId(vm)
    for (const mesh of meshes) {
      grouped.set(mesh.name, id)
      reach.virtualMeshOf.set(mesh.name, id)
      status.meshes[mesh.name] = {state: 'ACCEPTED'}
      if (meshes.length > 1 && mesh.gateways.length > 0 && federation !== 'none') reach.federatedMeshes.add(mesh.name)
      if (federation === 'none') reach.unfederatedMeshes!.add(mesh.name)
    }
    accepted.push({resource: vm, id, meshes, federation, ...(selected ? {selected} : {})})
  }
  return {accepted, statuses, reach}
}
