import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class CreateVirtualMesh extends VerbCommand<typeof CreateVirtualMesh> {
  static override summary = 'Group meshes in a VirtualMesh: one shared root of trust and federation, then sync.'
  static override description = `Writes a VirtualMesh for the discovered meshes (kubectl smh get meshes lists them) to the management cluster and
syncs, as apply -f would. Sync's trust step gives every mesh an intermediate CA signed by one root: a generated root
(RSA 4096 by default, ECDSA P-256 with --ca-key-algorithm ecdsa) kept in the management cluster, or your own with
--root-ca-secret (a Secret there holding root-cert.pem and key.pem). With --auto-restart-pods istiod and the gateways
are restarted to load it. Federation makes each mesh's services reachable from the others. A mesh can be in one
VirtualMesh only. Running it again with the same NAME updates the VirtualMesh.
On a terminal without the required flags, a wizard asks for them.`
  static override examples = [
    '$ kubectl smh create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --auto-restart-pods',
    '$ kubectl smh create virtualmesh virtual-mesh --mesh istiod-istio-system-kind2 --mesh istiod-istio-system-kind3 --root-ca-secret service-mesh-hub/my-root --dry-run',
  ]
  static override args = {
    name: Args.string({description: 'Name of the VirtualMesh.', required: false}),
  }
  static override flags = {
    mesh: Flags.string({summary: 'A discovered mesh (e.g. istiod-istio-system-kind2); repeat for each.', multiple: true}),
    'root-ca-secret': Flags.string({summary: 'Your root CA: a Secret NAMESPACE/NAME in the management cluster with root-cert.pem and key.pem.'}),
    'ca-key-algorithm': Flags.option({summary: 'Key of the generated root CA (default rsa: RSA 4096).', options: ['rsa', 'ecdsa'] as const})(),
    'auto-restart-pods': Flags.boolean({summary: 'Restart istiod and the gateways so they load the new certificates.'}),
    'global-access-policy': Flags.option({summary: 'enabled: deny what no AccessPolicy allows (default disabled).', options: ['enabled', 'disabled'] as const})(),
    'no-federation': Flags.boolean({summary: 'Leave spec.federation out.'}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {createVirtualMesh, createVirtualMeshMissing} = await import('../../services/verbs/create-virtualmesh.js')
    const {flags} = this
    await this.runVerb('create virtualmesh', {
      name: this.args.name, mesh: flags.mesh, rootCaSecret: flags['root-ca-secret'], caKeyAlgorithm: flags['ca-key-algorithm'],
      autoRestartPods: flags['auto-restart-pods'], globalAccessPolicy: flags['global-access-policy'], noFederation: flags['no-federation'],
    }, createVirtualMeshMissing, createVirtualMesh)
  }
}
