import type {KubernetesObject} from '@kubernetes/client-node'

import {readInputs} from '../api/load.js'
import {formatProblem} from '../api/parse.js'
import {SmhError} from '../errors.js'
import {ClusterClient} from '../kube/client.js'
import {kubeError} from '../kube/errors.js'
import {loadKubeconfig} from '../kube/kubeconfig.js'
import {sleep} from './processes.js'

interface Crd extends KubernetesObject {
  status?: {conditions?: {type: string; status: string}[]}
}

/** Applies every CRD of a multi-document YAML file to each cluster and waits until all are Established. */
export async function installCrds(kubeconfigPath: string, clusters: string[], crdsFile: string, timeoutMs = 60_000): Promise<void> {
  const read = await readInputs([crdsFile])
  if (read.problems.length) throw new SmhError(`Istio's CRDs cannot be read: ${read.problems.map(formatProblem).join('; ')}`)
  const crds = read.objects.map((o) => o.object as unknown as Crd).filter((o) => o.kind === 'CustomResourceDefinition')
  if (crds.length === 0) throw new SmhError(`${crdsFile} holds no CustomResourceDefinition`)
  const kc = loadKubeconfig({kubeconfig: kubeconfigPath})
  await Promise.all(clusters.map(async (cluster) => {
    const client = ClusterClient.forContext(kc, cluster)
    try {
      for (const crd of crds) await client.apply(crd, {force: true})
      const names = new Set(crds.map((c) => c.metadata?.name))
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const list = await client.objects.list<Crd>('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
        const established = list.items.filter((c) => names.has(c.metadata?.name) && c.status?.conditions?.some((k) => k.type === 'Established' && k.status === 'True'))
        if (established.length === names.size) return
        if (Date.now() > deadline) throw new SmhError(`cluster "${cluster}": CRDs not Established after ${timeoutMs / 1000}s`)
        await sleep(100)
      }
    } catch (error) {
      throw kubeError(error, cluster)
    }
  }))
}
