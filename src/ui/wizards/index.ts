/**
 * The wizards of issue 8, one per verb of verbs-spec.md. Each is `(choices, given, hooks) => Promise<Flags>`: it
 * asks (on stderr) only for what `given` lacks, shows the --dry-run plan through `hooks.confirm` and asks
 * "Apply? (y/N)", prints "Next time: kubectl smh ..." and returns the flags (camelCase, as the verb services take
 * them). Declining throws WizardDeclined (exit 0, nothing written); Ctrl-C rejects with inquirer's ExitPromptError
 * (BaseCommand.catch: exit 130). They never check for a terminal, nor decide when they are needed: VerbCommand does
 * both, with the verb service's `...Missing` (src/services/verbs), and without a terminal exits 2 naming them.
 */
import type {Choices} from '../../services/choices.js'
import {type AddFailoverServiceFlags, addFailoverServiceShape, addFailoverServiceWizard} from './add-failoverservice.js'
import {type AllowAccessFlags, allowAccessShape, allowAccessWizard} from './allow-access.js'
import {type VerbShape, type WizardHooks, commandLineOf} from './common.js'
import {type CreateVirtualMeshFlags, createVirtualMeshShape, createVirtualMeshWizard} from './create-virtualmesh.js'
import {type SetOutlierFlags, setOutlierShape, setOutlierWizard} from './set-outlier.js'
import {type SetRouteFlags, setRouteShape, setRouteWizard} from './set-route.js'
import {type ShiftTrafficFlags, shiftTrafficShape, shiftTrafficWizard} from './shift-traffic.js'

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
export {type CommonVerbFlags, type VerbShape, type WizardHooks, WizardDeclined, commandLineOf, ordinal, validateDuration, validateHostname, validateName} from './common.js'

export interface Wizard<Flags extends object> {
  shape: VerbShape
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
  'create virtualmesh': {shape: createVirtualMeshShape, run: createVirtualMeshWizard},
  'add failoverservice': {shape: addFailoverServiceShape, run: addFailoverServiceWizard},
  'shift traffic': {shape: shiftTrafficShape, run: shiftTrafficWizard},
  'set outlier': {shape: setOutlierShape, run: setOutlierWizard},
  'set route': {shape: setRouteShape, run: setRouteWizard},
  'allow access': {shape: allowAccessShape, run: allowAccessWizard},
}

/** `kubectl smh VERB ...` for a verb's flags, positional arguments in place. */
export function commandLineFor<V extends Verb>(verb: V, flags: Partial<WizardFlags[V]>, globals?: WizardHooks['globals']): string {
  return commandLineOf(WIZARDS[verb].shape, flags, globals)
}
