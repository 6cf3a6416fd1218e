/**
 * Shell completion (issue 10) from the commands' own metadata (oclif's manifest: ids, flags, args): pure. `complete`
 * answers the cobra protocol kubectl speaks to plugins (`kubectl_complete-smh ARGS... CURRENT` prints one candidate
 * a line, then `:4`, no file completion), which the bash and zsh scripts of `kubectl smh completion` also use.
 */

export interface CompletionCommand {
  /** `set:outlier` */
  id: string
  hidden?: boolean
  flags: {name: string; char?: string; type: 'boolean' | 'option'; options?: readonly string[]}[]
  args: string[]
}

/** Names from the clusters, where cheap: `cluster` (registered), `failoverservice`, `virtualmesh`, `trafficpolicy`, `context`. */
export type NameSource = (what: string) => Promise<string[]>

/** Cobra's ShellCompDirectiveNoFileComp. */
export const NO_FILE_COMPLETION = 4

const DESCRIBE_KINDS = ['service', 'failoverservice', 'virtualmesh', 'cluster', 'trafficpolicy']
const GET_KINDS = ['trafficpolicies', 'failoverservices', 'virtualmeshes', 'accesspolicies', 'kubernetesclusters']
const CLUSTER_FLAGS = new Set(['from', 'fail', 'cluster'])

/** Candidates for the last word, given the words before it. */
export async function complete(commands: CompletionCommand[], words: string[], names: NameSource = async () => []): Promise<string[]> {
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const visible = commands.filter((c) => !c.hidden)
  // The longest command id the words start with.
  let command: CompletionCommand | undefined
  let used = 0
  for (const c of visible) {
    const parts = c.id.split(':')
    if (parts.length > used && parts.every((p, i) => before[i] === p)) {
      command = c
      used = parts.length
    }
  }
  const filter = (list: string[]) => [...new Set(list)].filter((x) => x.startsWith(current)).sort()
  if (!command) {
    // The next word of a command id.
    const next = visible.map((c) => c.id.split(':')).filter((p) => p.length > before.length && before.every((w, i) => p[i] === w)).map((p) => p[before.length])
    return filter([...next, ...(before.length === 0 ? ['help'] : [])])
  }
  const rest = before.slice(used)
  const previous = rest.at(-1)
  const flagOf = (word: string | undefined) => {
    if (!word?.startsWith('-')) return undefined
    const name = word.replace(/^--?/, '')
    return command!.flags.find((f) => f.name === name || f.char === name)
  }
  const valueFlag = flagOf(previous)
  if (valueFlag && valueFlag.type === 'option') {
    if (valueFlag.options) return filter([...valueFlag.options])
    if (CLUSTER_FLAGS.has(valueFlag.name)) return filter(await names('cluster'))
    if (valueFlag.name === 'mgmt-context' || valueFlag.name === 'remote-context') return filter(await names('context'))
    if (valueFlag.name === 'to-failover') return filter(await names('failoverservice'))
    return []
  }
  if (current.startsWith('-')) {
    return filter(command.flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]))
  }
  // Positional: which argument is this?
  const positionals: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const flag = flagOf(rest[i])
    if (flag) {
      if (flag.type === 'option' && !rest[i].includes('=')) i++
      continue
    }
    if (!rest[i].startsWith('-')) positionals.push(rest[i])
  }
  const arg = command.args[positionals.length]
  if (command.id === 'describe' && arg === 'kind') return filter(DESCRIBE_KINDS)
  if (command.id === 'describe' && arg === 'name') {
    const kind = {fs: 'failoverservice', vm: 'virtualmesh', tp: 'trafficpolicy', svc: 'service'}[positionals[0]] ?? positionals[0]
    return kind === 'service' ? [] : filter(await names(kind))
  }
  if ((command.id === 'get' || command.id === 'delete') && arg === 'kind') return filter(GET_KINDS)
  if (command.id === 'deregister:cluster' && arg) return filter(await names('cluster'))
  return []
}

/** The cobra protocol's answer: candidates, then the directive. */
export function cobraOutput(candidates: string[]): string {
  return [...candidates, `:${NO_FILE_COMPLETION}`].join('\n')
}

/** A bash completion script for `kubectl-smh` (kubectl itself asks `kubectl_complete-smh`). */
export function bashScript(): string {
  return `# kubectl smh completion for bash: source <(kubectl smh completion bash)
# "kubectl smh <TAB>" goes through kubectl's own completion, which runs kubectl_complete-smh (installed with the plugin).
_kubectl_smh() {
  local IFS=$'\\n'
  local out
  out=$(kubectl-smh __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=( $(printf '%s\\n' "$out" | grep -v '^:') )
}
complete -o default -F _kubectl_smh kubectl-smh
`
}

/** A zsh completion script for `kubectl-smh`. */
export function zshScript(): string {
  return `#compdef kubectl-smh
# kubectl smh completion for zsh: source <(kubectl smh completion zsh)
# "kubectl smh <TAB>" goes through kubectl's own completion, which runs kubectl_complete-smh (installed with the plugin).
_kubectl_smh() {
  local -a lines
  lines=("\${(@f)$(kubectl-smh __complete "\${(@)words[2,$CURRENT]}" 2>/dev/null)}")
  lines=(\${lines:#:*})
  compadd -- $lines
}
compdef _kubectl_smh kubectl-smh
`
}
