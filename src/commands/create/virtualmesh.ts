import {Args, Flags} from '@oclif/core'

import {VerbCommand} from '../../verb-command.js'

export default class CreateVirtualMesh extends VerbCommand<typeof CreateVirtualMesh> {
  static override summary = 'Group meshes in a VirtualMesh: one shared root of trust and federation, then sync.'
  static override description = `Writes a VirtualMesh for the discovered meshes (kubectl smh get meshes lists them) to the management cluster and
syncs, as apply -f would. Sync's trust step gives every mesh an intermediate CA signed by one root: a generated root
(RSA 4096 by default, ECDSA P-256 with --ca-key-algorithm ecdsa) kept in the management cluster, or your own with
--root-ca-secret (a Secret there holding root-cert.pem and key.pem). With --auto-restart-pods istiod and the gateways
are restarted to load it. Federation makes services of one mesh reachable from the others: --federation on-demand
(the default for a new VirtualMesh) federates a service only into the clusters that route to it (a FailoverService's
backing service, a traffic-shift or mirror destination); all federates every service into every other mesh, as
Service Mesh Hub 0.9 did (spec.federation.permissive); none federates nothing. Before writing, it prints the estimate
per cluster: objects generated and outbound Envoy clusters per sidecar (also under "estimate" in -o json). A mesh can be in one
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
    federation: Flags.option({summary: 'Which services are federated: on-demand (default for a new VirtualMesh; what routes use), all (SMH permissive), none.', options: ['on-demand', 'all', 'none'] as const})(),
    'no-federation': Flags.boolean({summary: 'Deprecated: the same as --federation none.', deprecated: {message: '--no-federation is deprecated; use --federation none'}}),
    ...VerbCommand.verbFlags,
  }

  async run(): Promise<void> {
    const {createVirtualMesh, createVirtualMeshMissing} = await import('../../services/verbs/create-virtualmesh.js')
    const {flags} = this
    await this.runVerb('create virtualmesh', {
      name: this.args.name, mesh: flags.mesh, rootCaSecret: flags['root-ca-secret'], caKeyAlgorithm: flags['ca-key-algorithm'],
      autoRestartPods: flags['auto-restart-pods'], globalAccessPolicy: flags['global-access-policy'], federation: flags.federation, noFederation: flags['no-federation'],
    }, createVirtualMeshMissing, createVirtualMesh)
  }
}
