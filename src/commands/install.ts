import {BaseCommand} from '../base-command.js'

export default class Install extends BaseCommand<typeof Install> {
  static override summary = 'Install the SMH CRDs and the service-mesh-hub namespace on the management cluster.'
  static override description = `Applies the CRDs of TrafficPolicy, FailoverService, VirtualMesh, AccessPolicy and KubernetesCluster (with
OpenAPI schemas and the status subresource) and the service-mesh-hub namespace, and waits until the CRDs are served.
Nothing that runs is installed: kubectl smh does its work in the client. Running it again changes nothing.`
  static override examples = ['$ kubectl smh install', '$ kubectl smh install --mgmt-context kind1']

  async run(): Promise<void> {
    const {install} = await import('../services/install.js')
    const {renderTable} = await import('../ui/output.js')
    const result = await install(await this.managementClient())
    this.output(result, () => renderTable(result.objects, [
      {header: 'object', get: (o) => o.object},
      {header: 'action', get: (o) => o.action},
    ]))
    this.info(`${this.stderrColor.green('✓')} installed in ${result.context}`)
  }
}
