import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class DemoUp extends BaseCommand<typeof DemoUp> {
  static override summary = 'Start local control planes (real kube-apiserver + etcd) seeded as the blog post has them.'
  static override description = `The embedded default: one etcd and one kube-apiserver per cluster, running in the background after this
command returns, with Istio's CRDs installed. The first cluster is the management cluster (empty); the others
have Istio's control plane (istiod, the istio ConfigMap, an ingress gateway with a tls port 15443) and bookinfo
with sidecars, the first of them without reviews-v3. Running it again while the demo runs changes nothing.

Binaries come from \`npm run tools\` (built with Go) or KUBECTL_SMH_BIN_DIR. State lives in KUBECTL_SMH_DEMO_DIR
(default ~/.local/state/kubectl-smh/demo). With --kubeconfig PATH the demo's kubeconfig is also written to PATH.`
  static override examples = [
    '$ kubectl smh demo up',
    '$ eval "$(kubectl smh demo up 2>/dev/null)"   # sets KUBECONFIG in this shell',
    '$ kubectl smh demo up --clusters mgmt,east,west --kubeconfig ./demo.kubeconfig',
  ]
  static override flags = {
    clusters: Flags.string({summary: 'Cluster names, comma-separated; the first is the management cluster.', default: 'kind1,kind2,kind3'}),
  }

  async run(): Promise<void> {
    const {demoUp} = await import('../../services/demo/index.js')
    const result = await demoUp({
      clusters: this.flags.clusters.split(',').map((c) => c.trim()).filter((c) => c !== ''),
      kubeconfig: this.flags.kubeconfig,
      onProgress: (m) => this.info(m),
    })
    const c = this.stderrColor
    this.info(result.alreadyRunning
      ? `the demo is already running (${result.clusters.map((k) => k.name).join(', ')}): nothing started`
      : `${c.green('✓')} ${result.clusters.length} clusters up (management: ${result.managementCluster}); stop them with: kubectl smh demo down`)
    // stdout carries the one line a shell can eval, like `minikube docker-env`.
    this.output(result, () => `export KUBECONFIG=${result.kubeconfig}`)
  }
}
