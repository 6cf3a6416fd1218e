import {BaseCommand} from '../base-command.js'

/** The cobra completion protocol (what kubectl_complete-smh runs): WORDS... CURRENT → candidates, then `:4`. */
export default class Complete extends BaseCommand<typeof Complete> {
  static override hidden = true
  static override summary = 'Completion candidates for the words given (used by the completion scripts).'
  static override strict = false

  public override async init(): Promise<void> {
    // The words are the user's half-typed command line: none of them is a flag of this command.
  }

  async run(): Promise<void> {
    const {cobraOutput, complete} = await import('../observe/completion.js')
    const words = this.argv.length ? this.argv : ['']
    const commands = this.config.commands.map((c) => ({
      id: c.id, hidden: c.hidden,
      flags: Object.values(c.flags).map((f) => ({name: f.name, char: f.char, type: f.type, ...(f.type === 'option' && f.options ? {options: f.options} : {})})),
      args: Object.keys(c.args ?? {}),
    }))
    const candidates = await complete(commands, words, (what) => namesFrom(words, what))
    process.stdout.write(`${cobraOutput(candidates)}\n`)
  }
}

const KINDS: Record<string, {apiVersion: string; kind: string}> = {
  cluster: {apiVersion: 'multicluster.solo.io/v1alpha1', kind: 'KubernetesCluster'},
  failoverservice: {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'FailoverService'},
  virtualmesh: {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'VirtualMesh'},
  trafficpolicy: {apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'TrafficPolicy'},
}

/** Names from the management cluster (the --kubeconfig/--mgmt-context on the line, else the defaults), 2 s at most. */
async function namesFrom(words: string[], what: string): Promise<string[]> {
  try {
    const {loadKubeconfig} = await import('../kube/kubeconfig.js')
    const flag = (name: string) => {
      const i = words.findIndex((w) => w === `--${name}`)
      return i >= 0 ? words[i + 1] : words.find((w) => w.startsWith(`--${name}=`))?.split('=')[1]
    }
    const kc = loadKubeconfig({kubeconfig: flag('kubeconfig')})
    if (what === 'context') return kc.getContexts().map((c) => c.name)
    const target = KINDS[what]
    if (!target) return []
    const {managementClient} = await import('../services/management.js')
    const mgmt = managementClient({kubeconfig: flag('kubeconfig'), mgmtContext: flag('mgmt-context') ?? flag('context'), requestTimeoutMs: 2000})
    const {listAll} = await import('../kube/list.js')
    const items = await listAll(mgmt, target.apiVersion, target.kind)
    return items.map((o) => o.metadata?.name ?? '').filter(Boolean)
  } catch {
    return []
  }
}
