import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {UsageError} from '../errors.js'

export default class Translate extends BaseCommand<typeof Translate> {
  static override summary = 'Translate SMH resources into the Istio objects of each cluster, offline (no cluster needed).'
  static override description = `Reads TrafficPolicy, FailoverService, VirtualMesh, AccessPolicy and KubernetesCluster resources (-f) and, for
each cluster, its objects as \`kubectl get namespaces,deployments,daemonsets,statefulsets,pods,services,serviceaccounts,configmaps -A -o yaml\`
prints them (--snapshot CLUSTER=FILE). Prints the Istio objects for every cluster (each carries the annotation
smh.solo.io/cluster), or writes them to --output-dir DIR/<cluster>/<kind>-<namespace>-<name>.yaml for GitOps.
Statuses go to stderr. Invalid input or an INVALID resource: exit 2, every problem on stderr, nothing printed or written.`
  static override examples = [
    '$ kubectl smh translate -f policies.yaml --snapshot kind2=kind2.yaml --snapshot kind3=kind3.yaml',
    '$ kubectl smh translate -f smh/ --snapshot kind2=kind2.yaml -o json --show-status',
    '$ kubectl smh translate -f smh/ --snapshot kind2=kind2.yaml --snapshot kind3=kind3.yaml --output-dir manifests/',
    '$ cat policies.yaml | kubectl smh translate -f - --snapshot kind2=kind2.yaml',
  ]

  static override flags = {
    filename: Flags.string({char: 'f', summary: 'File, directory or - (stdin) with SMH resources; repeat for more.', multiple: true, required: true}),
    snapshot: Flags.string({summary: 'CLUSTER=FILE: the objects of one cluster (kubectl get ... -A -o yaml); repeat per cluster.', multiple: true}),
    'output-dir': Flags.string({summary: 'Write DIR/<cluster>/<kind>-<namespace>-<name>.yaml instead of printing.'}),
    'show-status': Flags.boolean({summary: 'With -o json, put the statuses into the output under "statuses" instead of on stderr.'}),
  }

  async run(): Promise<void> {
    const {translateFiles, invalidStatusProblems} = await import('../services/translate.js')
    const outcome = await translateFiles({filenames: this.flags.filename, snapshots: this.flags.snapshot ?? []})
    const problems = outcome.result ? invalidStatusProblems(outcome.result.statuses) : outcome.problems
    if (problems.length || !outcome.result) {
      throw new UsageError(`invalid input: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems)
    }
    const {clusters, statuses} = outcome.result
    const items = Object.values(clusters).flat()
    const format = this.flags.output ?? (this.flags.json ? 'json' : 'yaml')
    const statusesInOutput = this.flags['show-status'] && format === 'json'
    if (!statusesInOutput) {
      const {renderTable} = await import('../ui/output.js')
      this.info(
        renderTable(statuses, [
          {header: 'kind', get: (s) => s.kind},
          {header: 'namespace', get: (s) => s.namespace},
          {header: 'name', get: (s) => s.name},
          {header: 'state', get: (s) => s.state},
          {header: 'targets', get: (s) => Object.keys(s.trafficTargets ?? s.meshes ?? {}).join(',')},
        ]),
      )
    }
    const outputDir = this.flags['output-dir']
    if (outputDir) {
      const {writeManifests} = await import('../services/translate-output.js')
      const written = await writeManifests(outputDir, clusters)
      this.info(`wrote ${written.length} file${written.length === 1 ? '' : 's'} under ${outputDir}`)
      return
    }
    const list = {apiVersion: 'v1', kind: 'List', items, ...(statusesInOutput ? {statuses} : {})}
    const {renderJson, renderYaml, renderTable} = await import('../ui/output.js')
    if (format === 'json') this.log(renderJson(list))
    else if (format === 'yaml') {
      if (items.length) this.log(renderYaml(items, true))
    } else {
      this.log(
        renderTable(items, [
          {header: 'cluster', get: (o) => o.metadata.annotations['smh.solo.io/cluster']},
          {header: 'kind', get: (o) => o.kind},
          {header: 'namespace', get: (o) => o.metadata.namespace},
          {header: 'name', get: (o) => o.metadata.name},
        ]),
      )
    }
  }
}
