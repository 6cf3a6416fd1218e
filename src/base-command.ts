import {Command, Flags, type Interfaces} from '@oclif/core'
import type {KubeConfig} from '@kubernetes/client-node'

import {ExitCode, SmhError} from './errors.js'
import {loadKubeconfig, managementContext} from './kube/kubeconfig.js'
import {colorFor} from './ui/color.js'
import {OUTPUT_FORMATS, type OutputFormat, renderJson, renderYaml} from './ui/output.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What every command shares: the kubectl-style global flags, output formats, and errors as one line with the
 * exit codes of DESIGN.md §6. Commands parse flags, call one service function, and hand its result to output().
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    kubeconfig: Flags.string({
      summary: 'Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config).',
      helpGroup: 'GLOBAL',
    }),
    'mgmt-context': Flags.string({
      summary: "Kubeconfig context of the management cluster (default: the current context).",
      aliases: ['context'],
      helpGroup: 'GLOBAL',
    }),
    output: Flags.option({
      char: 'o',
      summary: 'Output format.',
      options: OUTPUT_FORMATS,
      helpGroup: 'GLOBAL',
    })(),
    json: Flags.boolean({summary: 'Same as -o json.', helpGroup: 'GLOBAL'}),
    'no-color': Flags.boolean({summary: 'No colours (also NO_COLOR, and whenever stdout is not a terminal).', helpGroup: 'GLOBAL'}),
    'request-timeout': Flags.string({
      summary: 'How long to wait for one API call (e.g. 30s, 2m; 0 waits forever).',
      default: '0',
      helpGroup: 'GLOBAL',
    }),
    verbose: Flags.boolean({summary: 'Show stack traces and extra detail on stderr.', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every positional argument (what a command with `strict = false` takes as SERVICE...). */
  protected positionals!: string[]
  /** --request-timeout in milliseconds (0: none), checked before run() so a bad value changes nothing. */
  protected requestTimeoutMs = 0

  public override async init(): Promise<void> {
    await super.init()
    const {args, argv, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: false,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.positionals = argv as string[]
    this.requestTimeoutMs = parseDuration(this.flags['request-timeout'], '--request-timeout')
  }

  /** -o wins; --json means -o json; otherwise table. */
  protected get format(): OutputFormat {
    return this.flags.output ?? (this.flags.json ? 'json' : 'table')
  }

  protected get color() {
    return colorFor(process.stdout, this.flags['no-color'])
  }

  protected get stderrColor() {
    return colorFor(process.stderr, this.flags['no-color'])
  }


  protected kubeconfig(): KubeConfig {
    return loadKubeconfig({kubeconfig: this.flags.kubeconfig})
  }

  protected mgmtContext(kc: KubeConfig): string {
    return managementContext(kc, this.flags['mgmt-context'])
  }

  /** The management cluster, reached with the user's kubeconfig (--kubeconfig, --mgmt-context, --request-timeout). */
  protected async managementClient() {
    const {managementClient} = await import('./services/management.js')
    return managementClient({kubeconfig: this.flags.kubeconfig, mgmtContext: this.flags['mgmt-context'], requestTimeoutMs: this.requestTimeoutMs})
  }

  /**
   * Ctrl-C stops at once with exit 130. Commands that write call it: what they wrote is complete object by object
   * (each write is one request), and the next sync converges from wherever this one stopped.
   */
  protected exitOnInterrupt(): void {
    process.once('SIGINT', () => {
      process.stderr.write('\ninterrupted\n')
      process.exit(ExitCode.interrupted)
    })
  }

  /** Data to stdout in the chosen format; `table` renders the human form. */
  protected output(data: unknown, table: () => string, options: {yamlStream?: boolean} = {}): void {
    switch (this.format) {
      case 'json':
        this.log(renderJson(data))
        break
      case 'yaml':
        this.log(renderYaml(data, options.yamlStream))
        break
      default: {
        const text = table()
        if (text !== '') this.log(text)
      }
    }
  }

  /** Progress and hints: stderr, so stdout stays data only. */
  protected info(message: string): void {
    process.stderr.write(`${message}\n`)
  }

  public override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    const verbose = this.flags?.verbose ?? this.argv.includes('--verbose')
    const red = colorFor(process.stderr, this.argv.includes('--no-color')).red
    let code: number
    let lines: string[]
    if (error instanceof SmhError) {
      code = error.exitCode
      lines = [error.message, ...error.details]
    } else if (isPromptExit(error)) {
      code = ExitCode.interrupted
      lines = ['interrupted']
    } else if (error.oclif?.exit !== undefined) {
      // oclif's own parse errors (unknown flag, bad option value, missing argument): usage, exit 2.
      code = error.oclif.exit === 0 ? 0 : ExitCode.usage
      if (code === 0) return
      this.parsed = true // parsing was attempted; stops oclif warning "did not parse its arguments" outside production
      // oclif's messages span lines ("The following error occurred:", the errors, "See more help with --help"):
      // keep the errors themselves, on one line.
      const what = error.message.split('\n').map((l) => l.trim())
        .filter((l) => l !== '' && !/^The following errors? occurred:?$/.test(l) && !/^See more help/.test(l))
        .join('; ')
      lines = [`${what} (see: kubectl smh ${this.id?.replaceAll(':', ' ') ?? ''} --help)`]
    } else {
      code = error.exitCode ?? ExitCode.failed
      lines = [error.message || String(error)]
    }
    process.stderr.write(`${red('Error:')} ${lines[0]}\n`)
    for (const line of lines.slice(1)) process.stderr.write(`  ${line}\n`)
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`)
    process.exitCode = code
  }
}

function isPromptExit(error: Error): boolean {
  return error.name === 'ExitPromptError' || error.name === 'AbortPromptError'
}

/** kubectl-style durations: 500ms, 30s, 2m, 1h, or a bare number of seconds; 0 means no limit. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!match) throw new SmhError(`${flag} "${value}" is not a duration: use e.g. 30s, 2m or 0`, ExitCode.usage)
  const n = Number(match[1])
  const unit = match[2] ?? 's'
  return Math.round(n * {ms: 1, s: 1000, m: 60_000, h: 3_600_000}[unit]!)
}
