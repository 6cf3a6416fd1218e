import {Args, Flags} from '@oclif/core'

import {BaseCommand, parseDuration} from '../../base-command.js'
import {UsageError} from '../../errors.js'

export default class RegisterCluster extends BaseCommand<typeof RegisterCluster> {
  static override summary = 'Register a cluster: a least-privilege identity there, its token stored in the management cluster.'
  static override description = `On the remote cluster (reached with --remote-context): namespace service-mesh-hub, ServiceAccount NAME, and RBAC
granting exactly what discovery and sync need (see the README), and a token from the TokenRequest API valid for
--token-duration. On the management cluster: Secret NAME (type solo.io/kubeconfig) holding a kubeconfig with that
token, and KubernetesCluster NAME. From then on every command reaches the cluster with those credentials.
Running it again refreshes the token and changes nothing else.`
  static override examples = [
    '$ kubectl smh register cluster kind2 --remote-context kind2',
    '$ kubectl smh register cluster east --remote-context gke-east --api-server-address https://10.0.0.2:6443 --token-duration 720h',
  ]
  static override aliases = ['cluster:register']
  static override args = {name: Args.string({description: 'The cluster\'s name in the mesh (a DNS label, e.g. kind2).', required: true})}
  static override flags = {
    'remote-context': Flags.string({summary: 'Kubeconfig context of the cluster to register (default: NAME).'}),
    'api-server-address': Flags.string({summary: 'API server URL stored for the cluster (default: the context\'s server).'}),
    'cluster-domain': Flags.string({summary: 'The cluster\'s DNS domain.', default: 'cluster.local'}),
    'token-duration': Flags.string({summary: 'How long the stored token is valid (e.g. 8760h, 720h).', default: '8760h'}),
  }

  async run(): Promise<void> {
    const {registerCluster} = await import('../../services/register.js')
    const tokenMs = parseDuration(this.flags['token-duration'], '--token-duration')
    if (tokenMs < 600_000) throw new UsageError(`--token-duration ${this.flags['token-duration']} is too short: the API server issues tokens of 10m or more`)
    this.exitOnInterrupt()
    const kubeconfig = this.kubeconfig()
    const result = await registerCluster({
      kubeconfig,
      mgmt: await this.managementClient(),
      name: this.args.name,
      remoteContext: this.flags['remote-context'] ?? this.args.name,
      apiServerAddress: this.flags['api-server-address'],
      clusterDomain: this.flags['cluster-domain'],
      tokenDurationSeconds: Math.round(tokenMs / 1000),
      clientOptions: {requestTimeoutMs: this.requestTimeoutMs},
      onProgress: (m) => this.info(m),
    })
    this.output(result, () => `${this.color.green('✓')} cluster ${result.name} registered (context ${result.remoteContext}, ${result.server}); token valid until ${result.tokenExpires}`)
  }
}
