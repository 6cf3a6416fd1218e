import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class DeregisterCluster extends BaseCommand<typeof DeregisterCluster> {
  static override summary = 'Deregister a cluster: remove what kubectl smh generated there, its identity, and its registration.'
  static override description = `Removes every object kubectl smh generated in the cluster, then the registration's RBAC, service account
(and the service-mesh-hub namespace when no other registration uses it), then the Secret and the KubernetesCluster
in the management cluster, and lists what it removed. The remote cluster is reached with --remote-context, by
default the context that registered it. Other clusters still federate to it until the next kubectl smh sync.`
  static override examples = ['$ kubectl smh deregister cluster kind3']
  static override aliases = ['cluster:deregister']
  static override args = {name: Args.string({description: 'The registered cluster.', required: true})}
  static override flags = {
    'remote-context': Flags.string({summary: 'Kubeconfig context of the cluster (default: the one recorded at registration).'}),
  }

  async run(): Promise<void> {
    const {deregisterCluster} = await import('../../services/register.js')
    this.exitOnInterrupt()
    const result = await deregisterCluster({
      kubeconfig: this.kubeconfig(),
      mgmt: await this.managementClient(),
      name: this.args.name,
      remoteContext: this.flags['remote-context'],
      clientOptions: {requestTimeoutMs: this.requestTimeoutMs},
      onProgress: (m) => this.info(m),
    })
    this.output(result, () => [...result.removed.map((r) => `removed ${r}`), `${this.color.green('✓')} cluster ${result.name} deregistered; run kubectl smh sync to update the other clusters`].join('\n'))
  }
}
