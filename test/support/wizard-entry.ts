/**
 * A test entry for the wizards, run in a pseudo-terminal (test/cli/wizards.test.ts) with
 * `node --import tsx test/support/wizard-entry.ts --verb "add failoverservice" [--given JSON] [--no-plan] [--resources none|seed]`.
 *
 * It is a real BaseCommand (so its catch maps Ctrl-C to 130 and a declined wizard to a quiet 0 as the verbs will),
 * whose run() does what a verb command does before its service call: choices (here from the golden seed snapshots
 * test/fixtures/snapshots/kind2.yaml and kind3.yaml through discoverCluster, and with --resources seed the seed's
 * FailoverService reviews-failover and VirtualMesh virtual-mesh), the no-terminal check (exit 2 naming the
 * missing flags), then the wizard with a plan hook. It prints one JSON document on stdout: {"flags": ..., "command": "kubectl smh ..."}.
 * When the verb commands exist, the tests switch to the built binary and this file goes.
 */
import {fileURLToPath} from 'node:url'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/base-command.js'
import {loadResources} from '../../src/api/load.js'
import {discoverCluster} from '../../src/discovery/discover.js'
import {UsageError} from '../../src/errors.js'
import {type Choices, choicesFrom} from '../../src/services/choices.js'
import {canPrompt} from '../../src/ui/interactive.js'
import {type Verb, WIZARDS, commandLineFor, missingFlagsMessage} from '../../src/ui/wizards/index.js'
import {FIXTURE_SNAPSHOTS, GOLDEN_DIR, snapshotObjects} from './golden.js'

/** The choices a wizard sees against the seed's clusters kind2 and kind3. */
export async function seedChoices(resources: 'none' | 'seed' = 'none'): Promise<Choices> {
  const discovery = await Promise.all(['kind2', 'kind3'].map(async (cluster) => discoverCluster(cluster, await snapshotObjects(`${FIXTURE_SNAPSHOTS}/${cluster}.yaml`) as never)))
  const stored = resources === 'seed'
    ? (await loadResources([`${GOLDEN_DIR}/seed-failover/input.yaml`, `${GOLDEN_DIR}/seed-failover/virtualmesh.yaml`])).resources.map((r) => r.resource).filter((r) => r.kind === 'FailoverService' || r.kind === 'VirtualMesh')
    : []
  return choicesFrom(discovery, stored)
}

class WizardEntry extends BaseCommand<typeof WizardEntry> {
  static override flags = {
    verb: Flags.option({options: Object.keys(WIZARDS) as Verb[], required: true})(),
    given: Flags.string({default: '{}', summary: 'The flags the user gave, as camelCase JSON.'}),
    plan: Flags.boolean({default: true, allowNo: true, summary: 'Show a plan and ask "Apply?" (--no-plan: as with --dry-run).'}),
    resources: Flags.option({options: ['none', 'seed'] as const, default: 'none'})(),
  }

  async run(): Promise<void> {
    const verb = this.flags.verb as Verb
    const wizard = WIZARDS[verb] as (typeof WIZARDS)['add failoverservice']
    const given = JSON.parse(this.flags.given)
    const missing = wizard.missing(given)
    if (missing.length && !canPrompt()) throw new UsageError(missingFlagsMessage(verb, missing))
    const choices = await seedChoices(this.flags.resources)
    const flags = await wizard.run(choices, given, {
      globals: {mgmtContext: 'kind1'},
      ...(this.flags.plan ? {confirm: async (f) => `Plan (dry run, nothing written yet): ${Object.keys(f).length} flags\n  would write: ${verb} ${JSON.stringify(f)}`} : {}),
    })
    this.log(JSON.stringify({flags, command: commandLineFor(verb, flags, {mgmtContext: 'kind1'})}))
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await WizardEntry.run(process.argv.slice(2), fileURLToPath(new URL('../..', import.meta.url)))
}
