import {Flags} from '@oclif/core'

import {BaseCommand, parseDuration} from '../base-command.js'

export default class Stats extends BaseCommand<typeof Stats> {
  static override summary = 'Requests by response code, source and target principal, target version and serving cluster, from the proxies.'
  static override description = `The seed's table without port-forwarding by hand. Every registered cluster is read at once with its stored
credentials: its pods, and each Istio proxy's Prometheus stats (port 15090), one request per pod through the API
server's pod proxy, at most --concurrency in flight. Rows come from Istio's istio_requests_total (source-side
reports; a server's report only when its client's proxy was not read) or, on upstream Envoy (the demo's data
plane), from Envoy's own per-cluster counters: outbound ones name the cluster that served (a federated
NAME.NS.svc.CLUSTER.global host is CLUSTER), inbound ones the server pod itself. The FROM column says which.

--service CLUSTER/NS/SVC keeps rows for that service: served by it, or sent to NS/SVC by CLUSTER's clients and
served elsewhere (failover, shift). --source takes a label selector on the client pods (kubectl syntax).
--watch reads again every --interval and shows each row's requests in the interval (delta) and per second, so a
failover shows as it happens; Ctrl-C stops it. Not on a terminal (or with -o json|yaml) each reading is printed
after the last, JSON as one document per line.

--prometheus-url reads the same counters from a Prometheus server that scrapes the proxies (one PromQL query per
reading); its series must carry the target labels cluster, namespace and pod.

A proxy that cannot be read is named on stderr and the others are shown (exit 0).`
  static override examples = [
    '$ kubectl smh stats',
    '$ kubectl smh stats --service kind2/default/reviews',
    "$ kubectl smh stats --source 'app=productpage,version in (v1)' -o json",
    '$ kubectl smh stats --service kind2/default/reviews --watch --interval 2s',
    '$ kubectl smh stats --prometheus-url http://127.0.0.1:9090',
  ]
  static override flags = {
    service: Flags.string({summary: 'Only requests for this service: CLUSTER/NS/SVC.'}),
    source: Flags.string({summary: "Only requests from client pods matching this label selector (e.g. 'app=productpage,version in (v1)')."}),
    watch: Flags.boolean({char: 'w', summary: 'Read again every --interval, with per-interval deltas and rates.'}),
    interval: Flags.string({summary: 'Time between readings with --watch (e.g. 2s, 500ms, 1m; default 2s).', dependsOn: ['watch']}),
    concurrency: Flags.integer({summary: 'Proxies read at once, over all clusters.', default: 16, min: 1}),
    'prometheus-url': Flags.string({summary: 'Read the counters from this Prometheus server (PromQL; series labelled cluster, namespace, pod) instead of from each proxy.'}),
  }

  async run(): Promise<void> {
    const {UsageError} = await import('../errors.js')
    const {parseLabelSelector} = await import('../observe/label-selector.js')
    // Bad input is exit 2 before anything is read.
    const interval = this.flags.interval ?? '2s'
    let intervalMs = 0
    if (this.flags.watch) {
      try {
        intervalMs = parseDuration(interval, '--interval')
      } catch {
        intervalMs = 0
      }
      if (intervalMs <= 0) throw new UsageError(`--interval "${interval}" is not a duration above 0: use e.g. 2s, 500ms or 1m`)
    }
    if (this.flags.source !== undefined) parseLabelSelector(this.flags.source, '--source')
    const {openStats, readStats} = await import('../services/stats.js')
    const {renderStatsTable, renderUnreadable, renderWatchHeader} = await import('../ui/stats.js')
    const {renderYaml} = await import('../ui/output.js')
    const prometheusUrl = this.flags['prometheus-url']
    const read = prometheusUrl === undefined ? undefined : (await import('../services/stats-prometheus.js')).prometheusReader(prometheusUrl, {timeoutMs: this.requestTimeoutMs || 10_000})
    const mgmt = await this.managementClient()
    const options = {mgmt, service: this.flags.service, source: this.flags.source, concurrency: this.flags.concurrency, read}
    if (!this.flags.watch) {
      const reading = await readStats(options)
      for (const line of renderUnreadable(reading.unreadable, reading.proxies)) this.info(line)
      if (reading.rows.length === 0 && this.format === 'table') this.info(`No requests counted (${reading.read} of ${reading.proxies} proxies read).`)
      this.output(reading, () => renderStatsTable(reading))
      return
    }
    // --watch: stops cleanly (exit 0) on Ctrl-C or SIGTERM; nothing was written anywhere.
    const stop = () => process.exit(0)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const session = await openStats(options)
    const redraw = this.format === 'table' && Boolean(process.stdout.isTTY)
    let lastUnreadable = ''
    for (;;) {
      const reading = await session.read()
      const unreadable = renderUnreadable(reading.unreadable, reading.proxies)
      if (unreadable.join('\n') !== lastUnreadable) for (const line of unreadable) this.info(line)
      lastUnreadable = unreadable.join('\n')
      if (this.format === 'json') process.stdout.write(`${JSON.stringify(reading)}\n`)
      else if (this.format === 'yaml') process.stdout.write(`---\n${renderYaml(reading)}\n`)
      else {
        const block = [renderWatchHeader(reading, intervalMs), '', renderStatsTable(reading) || 'No requests counted.'].join('\n')
        // On a terminal the table is redrawn in place; piped, each reading follows the last, so it can be read as a log.
        process.stdout.write(redraw ? `\u001B[H\u001B[2J${block}\n` : `${block}\n\n`)
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - reading.elapsedMs)))
    }
  }
}
