import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class DemoUp extends BaseCommand<typeof DemoUp> {
  static override summary = 'Start local control planes (real kube-apiserver + etcd) seeded as the blog post has them.'
  static override description = `The embedded default: one etcd and one kube-apiserver per cluster, running in the background after this
command returns, with Istio's CRDs installed. The first cluster is the management cluster (empty); the others
have Istio's control plane (istiod, the istio ConfigMap, an ingress gateway with a tls port 15443) and bookinfo
with sidecars, the first of them without reviews-v3. Running it again while the demo runs changes nothing.

With --walkthrough it then performs the blog post's walkthrough on them: install, register the clusters, create the
virtual mesh, set outlier detection on reviews, add the failover service and shift reviews to it. Each step prints
the kubectl smh command that does the same before it runs (on stderr), so you can type them yourself next time;
run again, every step changes nothing.

Binaries come from \`npm run tools\` (built with Go) or KUBECTL_SMH_BIN_DIR. State lives in KUBECTL_SMH_DEMO_DIR
(default ~/.local/state/kubectl-smh/demo). With --kubeconfig PATH the demo's kubeconfig is also written to PATH.

With --dataplane (Linux, root) every bookinfo pod and ingress gateway of the workload clusters becomes real: a
network namespace at the pod's IP (a gateway also at its load-balancer address), joined to the host by a veth
pair, with Istio's traffic capture, a small app on the pod's port that answers with its identity, a real Envoy
(uid 1337) and a SPIFFE workload certificate from the cluster's cacerts (or the cluster's own CA). Drive it with
demo traffic, demo fail and demo heal; demo down removes every namespace, link and process it made. Each Envoy runs
the config Istio's own generator makes from its cluster's objects (a stand-in for istiod that keeps it current), so
--dataplane needs \`npm run tools\` (the xDS oracle and Envoy), not only \`npm run tools:demo\`.`
  static override examples = [
    '$ kubectl smh demo up',
    '$ kubectl smh demo up --walkthrough',
    '$ eval "$(kubectl smh demo up 2>/dev/null)"   # sets KUBECONFIG in this shell',
    '$ kubectl smh demo up --clusters mgmt,east,west --kubeconfig ./demo.kubeconfig',
    '$ sudo kubectl smh demo up --walkthrough --dataplane',
  ]
  static override flags = {
    clusters: Flags.string({summary: 'Cluster names, comma-separated; the first is the management cluster.', default: 'kind1,kind2,kind3'}),
    walkthrough: Flags.boolean({summary: "Then perform the blog post's walkthrough, printing each kubectl smh command before it runs."}),
    dataplane: Flags.boolean({summary: 'Then make the workload clusters\' pods real: network namespaces, Envoy, capture, apps (Linux, root).'}),
  }

  async run(): Promise<void> {
    const {demoUp} = await import('../../services/demo/index.js')
    const {checkWalkthroughClusters} = await import('../../services/demo/walkthrough.js')
    const clusters = this.flags.clusters.split(',').map((c) => c.trim()).filter((c) => c !== '')
    if (this.flags.walkthrough) checkWalkthroughClusters(clusters)
    if (this.flags.dataplane) (await import('../../services/demo/dataplane.js')).checkDataPlaneHost()
    const result = await demoUp({clusters, kubeconfig: this.flags.kubeconfig, onProgress: (m) => this.info(m)})
    const c = this.stderrColor
    this.info(result.alreadyRunning
      ? `the demo is already running (${result.clusters.map((k) => k.name).join(', ')}): nothing started`
      : `${c.green('✓')} ${result.clusters.length} clusters up (management: ${result.managementCluster}); stop them with: kubectl smh demo down`)
    const walkthrough = this.flags.walkthrough ? await this.walkthrough(result.kubeconfig, clusters) : undefined
    const dataplane = this.flags.dataplane ? await this.dataplane(result.dir, result.kubeconfig, clusters) : undefined
    // stdout carries the one line a shell can eval, like `minikube docker-env`.
    this.output({...result, ...(walkthrough ? {walkthrough} : {}), ...(dataplane ? {dataplane} : {})}, () => `export KUBECONFIG=${result.kubeconfig}`)
  }

  /** The data plane for every workload cluster (all but the management cluster). */
  private async dataplane(dir: string, kubeconfig: string, clusters: string[]) {
    const {demoDataPlaneUp} = await import('../../services/demo/dataplane.js')
    const c = this.stderrColor
    const result = await demoDataPlaneUp({demoDir: dir, kubeconfig, clusters: clusters.slice(1), onProgress: (m) => this.info(m)})
    const gateways = result.pods.filter((p) => p.kind === 'gateway').map((p) => `${p.cluster} ${p.addresses.slice(1).join(',') || p.addresses[0]}`)
    this.info(result.alreadyRunning
      ? `the data plane is already running (${result.pods.length} pods)${result.renewed.length ? `; workload certificates renewed in ${result.renewed.join(', ')}` : ''}`
      : `${c.green('✓')} data plane up: ${result.pods.length} pods with Envoy (gateways: ${gateways.join('; ')}); try: sudo kubectl smh demo traffic --from ${clusters[1]}/default/productpage-v1 --to reviews:9080`)
    return result
  }

  /** The walkthrough, narrated on stderr: the step, its command line, what it did. */
  private async walkthrough(kubeconfigFile: string, clusters: string[]) {
    const {walkthrough} = await import('../../services/demo/walkthrough.js')
    const {loadKubeconfig} = await import('../../kube/kubeconfig.js')
    const {ClusterClient} = await import('../../kube/client.js')
    const {verbTable} = await import('../../ui/verbs.js')
    this.exitOnInterrupt()
    const c = this.stderrColor
    const kubeconfig = loadKubeconfig({kubeconfig: kubeconfigFile})
    const mgmt = ClusterClient.forContext(kubeconfig, clusters[0], {requestTimeoutMs: this.requestTimeoutMs})
    const indent = (text: string) => text.split('\n').map((l) => `    ${l}`).join('\n')
    this.info(`\nThe blog post's walkthrough, step by step. To type the commands yourself:\n  export KUBECONFIG=${kubeconfigFile}`)
    const result = await walkthrough({
      kubeconfig, mgmt, clusters,
      onStep: (step, i, total) => this.info(`\n${c.bold(`[${i + 1}/${total}] ${step.title}`)}\n  ${c.cyan(`$ kubectl smh ${step.argv.join(' ')}`)}`),
      onOutcome: (_step, outcome) => {
        for (const note of outcome.result?.notes ?? []) this.info(indent(`note: ${note}`))
        this.info(indent(outcome.result ? verbTable(outcome.result) : outcome.summary))
      },
    })
    this.info(`\n${c.green('✓')} walkthrough done: reviews in ${clusters[1]} now fails over to ${clusters.slice(2).join(', ')}. See it with: kubectl smh get failoverservices`)
    return result
  }
}
