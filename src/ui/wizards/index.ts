/**
 * The wizards of issue 8, one per verb of verbs-spec.md. Each is `(choices, given, hooks) => Promise<Flags>`: it
 * asks (on stderr) only for what `given` lacks, shows the --dry-run plan through `hooks.confirm` and asks
 * "Apply? (y/N)", prints "Next time: kubectl smh ..." and returns the flags (camelCase, as the verb services take
 * them). Declining throws WizardDeclined (exit 0, nothing written); Ctrl-C rejects with inquirer's ExitPromptError
 * (BaseCommand.catch: exit 130). They never check for a terminal: the caller does (canPrompt), and without one
 * fails with the `missing` flags.
 */
import type {Choices} from '../../services/choices.js'
import {type AddFailoverServiceFlags, addFailoverServiceMissing, addFailoverServiceShape, addFailoverServiceWizard} from './add-failoverservice.js'
import {type AllowAccessFlags, allowAccessMissing, allowAccessShape, allowAccessWizard} from './allow-access.js'
import {type VerbShape, type WizardHooks, commandLineOf} from './common.js'
import {type CreateVirtualMeshFlags, createVirtualMeshMissing, createVirtualMeshShape, createVirtualMeshWizard} from './create-virtualmesh.js'
import {type SetOutlierFlags, setOutlierMissing, setOutlierShape, setOutlierWizard} from './set-outlier.js'
import {type SetRouteFlags, setRouteMissing, setRouteShape, setRouteWizard} from './set-route.js'
import {type ShiftTrafficFlags, shiftTrafficMissing, shiftTrafficShape, shiftTrafficWizard} from './shift-traffic.js'

export type {AddFailoverServiceFlags} from './add-failoverservice.js'
export type {AllowAccessFlags} from './allow-access.js'
export type {CreateVirtualMeshFlags} from './create-virtualmesh.js'
export type {SetOutlierFlags} from './set-outlier.js'
export type {SetRouteFlags} from './set-route.js'
export type {ShiftTrafficFlags} from './shift-traffic.js'
export {addFailoverServiceWizard, validateFailoverPort} from './add-failoverservice.js'
export {allowAccessWizard} from './allow-access.js'
export {createVirtualMeshWizard} from './create-virtualmesh.js'
export {OUTLIER_DEFAULTS, setOutlierWizard} from './set-outlier.js'
export {setRouteWizard} from './set-route.js'
export {destinationsOf, shiftTrafficWizard} from './shift-traffic.js'
export {equivalentCommand, flagName, shellQuote} from './command-line.js'
export {type VerbShape, type WizardHooks, WizardDeclined, commandLineOf, ordinal, validateDuration, validateHostname, validateName} from './common.js'

export interface Wizard<Flags extends object> {
  shape: VerbShape
  /** The required flags `given` lacks, spelled as on the command line (`NAME`, `--hostname`): [] means no wizard needed. */
  missing: (given: Partial<Flags>) => string[]
  run: (choices: Choices, given: Partial<Flags>, hooks?: WizardHooks) => Promise<Flags>
}

export interface WizardFlags {
  'create virtualmesh': CreateVirtualMeshFlags
  'add failoverservice': AddFailoverServiceFlags
  'shift traffic': ShiftTrafficFlags
  'set outlier': SetOutlierFlags
  'set route': SetRouteFlags
  'allow access': AllowAccessFlags
}

export type Verb = keyof WizardFlags

export const WIZARDS: {[V in Verb]: Wizard<WizardFlags[V]>} = {
  'create virtualmesh': {shape: createVirtualMeshShape, missing: createVirtualMeshMissing, run: createVirtualMeshWizard},
  'add failoverservice': {shape: addFailoverServiceShape, missing: addFailoverServiceMissing, run: addFailoverServiceWizard},
  'shift traffic': {shape: shiftTrafficShape, missing: shiftTrafficMissing, run: shiftTrafficWizard},
  'set outlier': {shape: setOutlierShape, missing: setOutlierMissing, run: setOutlierWizard},
  'set route': {shape: setRouteShape, missing: setRouteMissing, run: setRouteWizard},
  'allow access': {shape: allowAccessShape, missing: allowAccessMissing, run: allowAccessWizard},
}

/** The one line a command without a terminal prints (exit 2) when required flags are missing. */
export function missingFlagsMessage(verb: Verb, missing: string[]): string {
  return `kubectl smh ${verb}: missing ${missing.join(', ')} (no terminal for the wizard: pass ${missing.length === 1 ? 'it' : 'them'} as ${missing.length === 1 ? 'an argument or flag' : 'arguments or flags'}; see kubectl smh ${verb} --help)`
}

/** `kubectl smh VERB ...` for a verb's flags, positional arguments in place. */
export function commandLineFor<V extends Verb>(verb: V, flags: Partial<WizardFlags[V]>, globals?: WizardHooks['globals']): string {
  return commandLineOf(WIZARDS[verb].shape, flags, globals)
}
