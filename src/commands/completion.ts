import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Print a shell completion script (bash or zsh): commands, flags and, where cheap, names from the clusters.'
  static override description = `source <(kubectl smh completion bash) completes kubectl-smh; kubectl smh <TAB> itself goes through kubectl's own
completion (kubectl 1.26+), which runs kubectl_complete-smh, installed on PATH with the plugin. Both complete commands,
flags, flag values (-o, --from, --fail, --cluster, --mgmt-context) and the names of registered clusters, failover
services, virtual meshes and traffic policies (read from the management cluster, given 2 seconds).`
  static override examples = ['$ source <(kubectl smh completion bash)', '$ kubectl smh completion zsh > "${fpath[1]}/_kubectl-smh"']
  static override args = {
    shell: Args.string({description: 'bash or zsh.', required: true, options: ['bash', 'zsh']}),
  }

  async run(): Promise<void> {
    const {bashScript, zshScript} = await import('../observe/completion.js')
    process.stdout.write(this.args.shell === 'zsh' ? zshScript() : bashScript())
  }
}
