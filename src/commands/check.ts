import {BaseCommand} from '../base-command.js'

export default class Check extends BaseCommand<typeof Check> {
  static override summary = 'Check the management cluster and every registered cluster: one line per check, each failure with its fix.'
  static override description = `As linkerd check does: one line per check, marked passed, failed (with the fix) or warning, grouped by cluster;
all clusters are checked at once. The checks: the management cluster is reachable and has the SMH CRDs; each registered cluster is
reachable with its stored token (and when that expires); Istio is found (its version); each virtual mesh's meshes
hold a cacerts that chains to the one root, valid for more than 30 days; every mesh accepts the other meshes' trust
domains (trustDomainAliases or PILOT_SKIP_VALIDATE_TRUST_DOMAIN); gateways have an address; each failover service's
backing services have outlier detection with maxEjectionPercent 100 and ready endpoints; every SMH resource is
ACCEPTED at its current generation; the generated objects are in place and no other field manager changed them.
Exits 1 when any check fails.`
  static override examples = ['$ kubectl smh check', '$ kubectl smh check -o json']

  async run(): Promise<void> {
    const {runChecks} = await import('../observe/check.js')
    const {observe} = await import('../services/observe.js')
    const {renderCheck} = await import('../ui/observe.js')
    const {ExitCode, SmhError} = await import('../errors.js')
    const mgmt = await this.managementClient()
    const report = runChecks(await observe({mgmt, deep: true}))
    this.output(report, () => renderCheck(report, this.color))
    if (report.failed) throw new SmhError(`${report.failed} check${report.failed === 1 ? '' : 's'} failed`, ExitCode.failed)
  }
}
