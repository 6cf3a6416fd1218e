import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {renderTable} from '../../ui/output.js'

export default class DemoTraffic extends BaseCommand<typeof DemoTraffic> {
  static override summary = "Send HTTP requests from inside a demo pod (through its capture and Envoy) and count who answered."
  static override description = `Runs on the data plane of \`demo up --dataplane\` (root). The requests leave from inside the pod's network
namespace, as its app's would: captured to its Envoy, which routes them. --to takes a Service name as the pod
would write it (reviews:9080, reviews.default.svc.cluster.local:9080), a ServiceEntry host with an address
(reviews-failover.default.global:9080) or an IP. Prints the answers per cluster, pod and version, with their
response codes (0: no answer, e.g. connection refused).`
  static override examples = [
    '$ sudo kubectl smh demo traffic --from kind2/default/productpage-v1 --to reviews:9080 --requests 200',
    '$ sudo kubectl smh demo traffic --from kind2/default/productpage-v1 --to reviews:9080 --rate 20 -o json',
  ]
  static override flags = {
    from: Flags.string({summary: 'The sending pod: CLUSTER/NAMESPACE/DEPLOYMENT.', required: true}),
    to: Flags.string({summary: 'HOST:PORT to send to.', required: true}),
    requests: Flags.integer({summary: 'How many requests.', default: 10}),
    rate: Flags.integer({summary: 'Requests per second (default: one after the other, as fast as they come back).'}),
  }

  async run(): Promise<void> {
    const {demoDir} = await import('../../services/demo/index.js')
    const {demoTraffic} = await import('../../services/demo/dataplane.js')
    this.exitOnInterrupt()
    const result = await demoTraffic({demoDir: demoDir(), from: this.flags.from, to: this.flags.to, requests: this.flags.requests, rate: this.flags.rate})
    const c = this.color
    const codes = (byCode: Record<string, number>) => Object.entries(byCode).map(([code, n]) => `${code === '200' ? c.green(code) : c.red(code)}×${n}`).join(' ')
    this.info(`${result.requests} requests from ${result.from} to ${result.to} (${result.address}): ${codes(result.codes)}`)
    const {answers: _answers, ...summary} = result
    this.output(this.format === 'table' ? summary : result, () => renderTable(result.by, [
      {header: 'cluster', get: (b) => b.cluster},
      {header: 'pod', get: (b) => b.pod},
      {header: 'version', get: (b) => b.version},
      {header: 'requests', get: (b) => b.count},
      {header: 'codes', get: (b) => codes(b.codes)},
    ]))
  }
}
