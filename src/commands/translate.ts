import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {SNAPSHOT_COMMAND} from '../discovery/kinds.js'

export default class Translate extends BaseCommand<typeof Translate> {
  static override summary = 'Translate SMH resources into the Istio objects of each cluster, offline (no cluster needed).'
  static override description = `Reads TrafficPolicy, FailoverService, VirtualMesh, AccessPolicy and KubernetesCluster resources (-f) and, for
each cluster, its objects as \`${SNAPSHOT_COMMAND}\`
prints them (--snapshot CLUSTER=FILE). Prints the Istio objects for every cluster (each carries the annotation
smh.solo.io/cluster), or writes them to --output-dir DIR/<cluster>/<kind>-<namespace>-<name>.yaml for GitOps.
Statuses go to stderr. Invalid input or an INVALID resource: exit 2, every problem on stderr, nothing printed or written.
Field names in Service Mesh Hub's proto spelling (destination_selector) are read as their camelCase names
(destinationSelector), each with a "note:" line on stderr; one field in both spellings is an error. A selector that
matches no service or workload leaves its policy ACCEPTED, with a "warning:" line on stderr.`
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
    const {translateCommand} = await import('../services/translate.js')
    const {objectTable, statusTable} = await import('../ui/translate.js')
    const outputDir = this.flags['output-dir']
    const {clusters, statuses, written, notes} = await translateCommand({filenames: this.flags.filename, snapshots: this.flags.snapshot ?? [], outputDir})
    for (const note of notes) this.info(`note: ${note}`)
    // YAML by default: what `kubectl apply -f -` and GitOps tools take.
    const format = this.flags.output ?? (this.flags.json ? 'json' : 'yaml')
    const statusesInOutput = this.flags['show-status'] && format === 'json'
    if (!statusesInOutput) this.info(statusTable(statuses))
    // Accepted, but probably not what was meant (a selector that matches nothing): said whatever the output format.
    for (const status of statuses) for (const warning of status.warnings ?? []) this.info(`warning: ${status.kind}/${status.namespace}/${status.name}: ${warning}`)
    if (written) {
      this.info(`wrote ${written.length} file${written.length === 1 ? '' : 's'} under ${outputDir}`)
      return
    }
    const items = Object.values(clusters).flat()
    // Streamed, one object at a time: the output of a fleet is tens of MB.
    const {jsonListPieces, writePieces, yamlStreamPieces} = await import('../ui/output.js')
    if (format === 'json') await writePieces(process.stdout, jsonListPieces({apiVersion: 'v1', kind: 'List'}, items, statusesInOutput ? {statuses} : {}))
    else if (format === 'yaml') await writePieces(process.stdout, yamlStreamPieces(items))
    else this.log(objectTable(items))
  }
}
