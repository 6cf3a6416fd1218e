/** `kubectl smh create virtualmesh` as a wizard: a name, the meshes (not those another VirtualMesh holds), restarts. */
import {checkbox, confirm, input, select} from '@inquirer/prompts'

import type {Choices} from '../../services/choices.js'
import {type CommonVerbFlags, COMMON_ORDER, type VerbShape, type WizardHooks, finish, needChoices, promptContext, validateName} from './common.js'

export interface CreateVirtualMeshFlags extends CommonVerbFlags {
  name: string
  mesh: string[]
  rootCaSecret?: string
  caKeyAlgorithm?: 'rsa' | 'ecdsa'
  autoRestartPods?: boolean
  globalAccessPolicy?: 'enabled' | 'disabled'
  federation?: 'on-demand' | 'all' | 'none'
  noFederation?: boolean
}

export const createVirtualMeshShape: VerbShape = {
  verb: 'create virtualmesh',
  positional: ['name'],
  order: ['mesh', 'rootCaSecret', 'caKeyAlgorithm', 'autoRestartPods', 'globalAccessPolicy', 'federation', 'noFederation', ...COMMON_ORDER],
}

/**
 * Asks for the name and the meshes when `given` lacks them, then whether to restart istiod and the gateways and the
 * global access policy (each only when not given). The root CA (generated RSA unless --root-ca-secret /
 * --ca-key-algorithm say otherwise) and federation are left to their flags.
 */
export async function createVirtualMeshWizard(choices: Choices, given: Partial<CreateVirtualMeshFlags>, hooks: WizardHooks = {}): Promise<CreateVirtualMeshFlags> {
  const context = promptContext(hooks)
  const namespace = given.namespace ?? 'service-mesh-hub'
  const name = given.name ?? await input({message: 'Name of the virtual mesh', default: 'virtual-mesh', validate: validateName}, context)
  let mesh = given.mesh
  if (!mesh?.length) {
    const self = `${namespace}/${name}`
    const free = choices.meshes.filter((m) => m.virtualMesh === undefined || m.virtualMesh === self)
    needChoices(choices.meshes.length, 'discovery found no Istio mesh in the registered clusters: register one with kubectl smh register cluster')
    needChoices(free.length, `every discovered mesh is already in a virtual mesh (${[...new Set(choices.meshes.map((m) => m.virtualMesh))].join(', ')}): add meshes to that one, or remove one from it first`)
    mesh = await checkbox({
      message: 'Meshes to join (space to select, enter when done)',
      choices: choices.meshes.map((m) => {
        const taken = m.virtualMesh !== undefined && m.virtualMesh !== self
        return {
          value: m.name,
          name: `${m.name}  (cluster ${m.cluster}, trust domain ${m.trustDomain})`,
          short: m.name,
          ...(taken ? {disabled: `(in VirtualMesh ${m.virtualMesh})`} : {}),
          ...(m.virtualMesh === self ? {checked: true} : {}),
        }
      }),
      validate: (picked) => picked.length > 0 || 'select at least one mesh (space selects)',
    }, context)
  }
  const autoRestartPods = given.autoRestartPods ?? await confirm({
    message: 'Restart istiod and the gateways so they load the shared root at once?',
    default: false,
  }, context)
  const globalAccessPolicy = given.globalAccessPolicy ?? await select({
    message: 'Global access policy',
    choices: [
      {value: 'disabled' as const, name: 'disabled: any workload may call any service (as before)'},
      {value: 'enabled' as const, name: 'enabled: deny by default; allow calls with kubectl smh allow access'},
    ],
    default: 'disabled',
  }, context)
  return finish(createVirtualMeshShape, {
    ...given,
    name,
    mesh,
    ...(autoRestartPods ? {autoRestartPods} : {}),
    ...(globalAccessPolicy !== 'disabled' || given.globalAccessPolicy ? {globalAccessPolicy} : {}),
  }, hooks)
}
