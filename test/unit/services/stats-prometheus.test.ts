/**
 * `stats --prometheus-url`: what the URL may be, and the one-line errors when the server cannot be used. Answers of
 * a real Prometheus are tested in test/integration/stats-prometheus.test.ts.
 */
import {createServer} from 'node:net'

import {describe, expect, it} from 'vitest'

import {binaryPath, requireBinary, toolVersions} from '../../../src/controlplane/binaries.js'
import {freePort} from '../../../src/controlplane/processes.js'
import {SmhError, UsageError} from '../../../src/errors.js'
import {prometheusEndpoint, readPrometheusSamples} from '../../../src/services/stats-prometheus.js'

/** A port nothing listens on: bound, then closed. */
const closedPort = freePort

describe('--prometheus-url', () => {
  it("is the server's base URL, with or without a path prefix; a copied API or UI URL is taken back to it", () => {
    expect(prometheusEndpoint('http://127.0.0.1:9090').query.toString()).toBe('http://127.0.0.1:9090/api/v1/query')
    expect(prometheusEndpoint('http://prom:9090/').query.toString()).toBe('http://prom:9090/api/v1/query')
    expect(prometheusEndpoint('https://mon.example/prometheus').query.toString()).toBe('https://mon.example/prometheus/api/v1/query')
    expect(prometheusEndpoint('https://mon.example/prometheus/').query.toString()).toBe('https://mon.example/prometheus/api/v1/query')
    expect(prometheusEndpoint('http://127.0.0.1:9090/api/v1/query').query.toString()).toBe('http://127.0.0.1:9090/api/v1/query')
    expect(prometheusEndpoint('http://127.0.0.1:9090/graph').query.toString()).toBe('http://127.0.0.1:9090/api/v1/query')
  })

  it('credentials in the URL become basic authentication, and are not shown in messages', () => {
    const e = prometheusEndpoint('https://ops:s%3Acret@mon.example/prometheus')
    expect(e.headers).toEqual({authorization: `Basic ${Buffer.from('ops:s:cret').toString('base64')}`})
    expect(e.query.toString()).toBe('https://mon.example/prometheus/api/v1/query')
    expect(e.shown).toBe('https://mon.example/prometheus')
  })

  it('a URL that is not one, not http(s), or has a query → UsageError (exit 2), one line', async () => {
    for (const [url, message] of [
      ['prometheus:9090', /^--prometheus-url "prometheus:9090" is not http\(s\): give the Prometheus server's base URL, e\.g\. http:\/\/127\.0\.0\.1:9090$/],
      ['127.0.0.1:9090', /^--prometheus-url "127\.0\.0\.1:9090" is not a URL: give the Prometheus server's base URL, e\.g\. http:\/\/127\.0\.0\.1:9090$/],
      ['not a url', /^--prometheus-url "not a url" is not a URL: give the Prometheus server's base URL/],
      ['http://prom:9090/api/v1/query?query=up', /has a query or fragment/],
    ] as const) {
      const error = await readPrometheusSamples(url).catch((e: unknown) => e)
      expect(error, url).toBeInstanceOf(UsageError)
      expect((error as UsageError).exitCode).toBe(2)
      expect((error as Error).message).toMatch(message)
      expect((error as Error).message).not.toContain('\n')
    }
  })

  it('bad metric or label names → UsageError', async () => {
    await expect(readPrometheusSamples('http://127.0.0.1:9', {metrics: ['a(b']})).rejects.toThrow(new UsageError('"a(b" is neither a metric name nor a regular expression of metric names'))
    await expect(readPrometheusSamples('http://127.0.0.1:9', {labels: {pod: 'k8s-pod'}})).rejects.toThrow(/"k8s-pod" is not a Prometheus label name/)
  })

  it('nothing listening → SmhError (exit 1): the URL, why, and the fix, one line', async () => {
    const port = await closedPort()
    const error = await readPrometheusSamples(`http://127.0.0.1:${port}`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SmhError)
    expect(error).not.toBeInstanceOf(UsageError)
    expect((error as SmhError).exitCode).toBe(1)
    expect((error as Error).message).toBe(`cannot reach Prometheus at http://127.0.0.1:${port} (ECONNREFUSED): check --prometheus-url (the server's base URL, e.g. http://127.0.0.1:9090) and that the server runs`)
  })

  it('a server that does not answer in time → SmhError naming the timeout', async () => {
    const server = createServer(() => {}) // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const {port} = server.address() as {port: number}
    try {
      const error = await readPrometheusSamples(`http://127.0.0.1:${port}`, {timeoutMs: 300}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SmhError)
      expect((error as Error).message).toMatch(new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} did not answer within 0\\.3 s: check --prometheus-url`))
    } finally {
      server.close()
    }
  })
})

describe("Debian's Prometheus for the tests (test/env/build-tools.sh prometheus)", () => {
  it('is cached under its Debian version, or taken from KUBECTL_SMH_PROMETHEUS or KUBECTL_SMH_BIN_DIR', () => {
    expect(toolVersions().prometheus).toMatch(/^2\.\d+\.\d+\+ds-\d+(\+deb\d+u\d+)?$/)
    expect(binaryPath('prometheus', {KUBECTL_SMH_CACHE: '/c'})).toBe(`/c/prometheus-${toolVersions().prometheus}/prometheus`)
    expect(binaryPath('prometheus', {KUBECTL_SMH_BIN_DIR: '/bin-dir'})).toBe('/bin-dir/prometheus')
    expect(binaryPath('prometheus', {KUBECTL_SMH_BIN_DIR: '/bin-dir', KUBECTL_SMH_PROMETHEUS: '/usr/bin/prometheus'})).toBe('/usr/bin/prometheus')
  })
  it('missing → one line saying how to fetch it', () => {
    expect(() => requireBinary('prometheus', {KUBECTL_SMH_CACHE: '/nonexistent'})).toThrow(
      `prometheus not found at /nonexistent/prometheus-${toolVersions().prometheus}/prometheus: fetch it with \`bash test/env/build-tools.sh prometheus\` (Debian's package prometheus, with apt-get download), or set KUBECTL_SMH_PROMETHEUS to a Prometheus binary`)
  })
})
