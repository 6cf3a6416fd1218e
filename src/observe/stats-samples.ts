/**
 * The contract between where `kubectl smh stats` (issue 10) reads request counters and what it makes of them:
 * samples of Prometheus metrics, grouped by the pod that exposed them. They come either from each pod's own
 * `/stats/prometheus` (port 15090, through its API server's pod proxy) or from a Prometheus server's series for that
 * pod (`--prometheus-url`); the stats model turns them into rows without knowing which.
 */

/** One sample of Prometheus exposition text, or one series of a PromQL instant vector. */
export interface Sample {
  /** The metric name as exposed: `istio_requests_total`, `envoy_cluster_upstream_rq`. */
  name: string
  labels: Record<string, string>
  value: number
}

/** The samples one pod's proxy exposed (read directly or from Prometheus). */
export interface PodSamples {
  cluster: string
  namespace: string
  pod: string
  samples: Sample[]
}
