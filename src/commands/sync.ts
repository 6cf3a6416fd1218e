import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Sync extends BaseCommand<typeof Sync> {
  static override summary = 'Translate the SMH resources of the management cluster and apply the result to every registered cluster.'
  static override description = `Reads the SMH resources from the management cluster, discovers every registered cluster in parallel (with the
credentials stored at registration), translates, and plans per cluster: create, update, unchanged, prune. Objects are
written with server-side apply (field manager kubectl-smh, strict validation); objects generated earlier and no longer
wanted are deleted; each SMH resource's status is written through its status subresource. A sync that changes nothing
sends no write request anywhere.

A cluster that cannot be reached fails its part (exit 1) and the others finish; objects in other clusters that
depend on it are held as they are until it answers again. An object another field manager owns is a conflict,
reported with the fix (--force-conflicts), never silently overwritten.

Shared trust: for every accepted VirtualMesh, its root CA (generated once into the management cluster, or the
user's), an intermediate per mesh written as Istio's plug-in CA (Secret cacerts in the Istio namespace; one that
chains to the root and has 30 days left is kept), the other meshes' trust domains merged into each mesh config's
trustDomainAliases (unless istiod runs with PILOT_SKIP_VALIDATE_TRUST_DOMAIN=true), and with autoRestartPods a
rollout restart of istiod and the gateways after a new intermediate. When a VirtualMesh goes or drops a mesh, its
cacerts and aliases are removed (istiod keeps the loaded CA until it restarts). A mesh it cannot fix makes the
VirtualMesh FAILED with the fix, and the command exit 1.`
  static override examples = [
    '$ kubectl smh sync',
    '$ kubectl smh sync --dry-run',
    '$ kubectl smh sync --diff --cluster kind2',
    '$ kubectl smh sync -o json',
  ]
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Print the plan; write nothing anywhere.'}),
    diff: Flags.boolean({summary: 'Print a unified diff of every object to create, update or prune (coloured on a terminal).'}),
    cluster: Flags.string({summary: 'Write only to this registered cluster; repeat for more (discovery still reads all).', multiple: true}),
    'force-conflicts': Flags.boolean({summary: 'Take over fields another field manager owns in generated objects.'}),
  }

  async run(): Promise<void> {
    const {sync, syncFailure} = await import('../services/sync.js')
    const {withClusterProgress} = await import('../ui/progress.js')
    const ui = await import('../ui/sync.js')
    this.exitOnInterrupt()
    const mgmt = await this.managementClient()
    const result = await withClusterProgress(process.stderr, this.stderrColor, (onProgress) => sync({
      mgmt, only: this.flags.cluster, dryRun: this.flags['dry-run'], forceConflicts: this.flags['force-conflicts'], onProgress,
    }))
    if (this.flags.diff) {
      const diff = ui.planDiff(result, this.color)
      if (diff) this.log(diff)
    }
    this.output(slim(result), () => [this.flags['dry-run'] ? ui.planTable(result) : ui.clusterTable(result), ui.trustTable(result)].filter(Boolean).join('\n\n'))
    if (this.format === 'table') this.info(ui.statusRows(result))
    const failure = syncFailure(result)
    if (failure) throw failure
  }
}

/** What -o json/yaml carries: the plan's actions, not whole objects. */
function slim(result: Awaited<ReturnType<typeof import('../services/sync.js').sync>>) {
  return {
    ...result,
    clusters: result.clusters.map(({entries, ...c}) => ({...c, changes: entries.filter((e) => e.action !== 'unchanged').map((e) => ({action: e.action, object: e.key}))})),
  }
}
