import {createServer} from 'node:net'

import {ApiException, KubeConfig} from '@kubernetes/client-node'
import {describe, expect, it} from 'vitest'

import {ClusterClient} from '../../../src/kube/client.js'
import {describeKubeError} from '../../../src/kube/errors.js'

function clientFor(server: string, timeoutMs?: number): ClusterClient {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{name: 'east', server, skipTLSVerify: false}],
    users: [{name: 'east', token: 't'}],
    contexts: [{name: 'east', cluster: 'east', user: 'east'}],
    currentContext: 'east',
  })
  return ClusterClient.forContext(kc, 'east', {requestTimeoutMs: timeoutMs})
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

describe('Kubernetes errors become one line naming the cluster and what to do', () => {
  it('connection refused (a real closed port)', async () => {
    const port = await closedPort()
    const error = await clientFor(`https://127.0.0.1:${port}`).objects.list('v1', 'Namespace').catch((e: unknown) => e)
    const line = describeKubeError(error, 'east')
    expect(line).toBe(`cluster "east": connection refused (127.0.0.1:${port}): is the cluster up? (kubectl --context east cluster-info; for the demo: kubectl smh demo status)`)
  })

  it('TLS failure (a server that does not speak TLS the way the kubeconfig expects)', async () => {
    const server = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nplain text, no TLS'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    const error = await clientFor(`https://127.0.0.1:${port}`).objects.list('v1', 'Namespace').catch((e: unknown) => e)
    server.close()
    expect(describeKubeError(error, 'east')).toMatch(/^cluster "east": TLS failed \(.+\): check certificate-authority-data in the kubeconfig$/)
  })

  it('--request-timeout aborts a call that gets no answer', async () => {
    const server = createServer(() => {}) // accepts and never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as {port: number}).port
    const error = await clientFor(`https://127.0.0.1:${port}`, 300).objects.list('v1', 'Namespace').catch((e: unknown) => e)
    server.close()
    expect(describeKubeError(error, 'east')).toBe('cluster "east": no answer within --request-timeout: is it up, or is the timeout too short?')
  })

  it('API statuses: the Status message, never the raw HTTP dump', () => {
    const status = (code: number, message: string) => new ApiException(code, 'HTTP-Code: …', JSON.stringify({kind: 'Status', message}), {})
    expect(describeKubeError(status(403, 'secrets is forbidden: User "x" cannot list'), 'kind2'))
      .toBe('cluster "kind2": forbidden: secrets is forbidden: User "x" cannot list: grant the missing RBAC permission or use another identity')
    expect(describeKubeError(new ApiException(401, 'x', undefined, {}), 'kind2')).toContain('credentials were refused (401 Unauthorized)')
    expect(describeKubeError(status(409, 'Apply failed with 1 conflict'), 'kind2')).toContain('--force-conflicts')
    expect(describeKubeError(status(422, 'DestinationRule "x" is invalid'), 'kind2')).toBe('cluster "kind2": rejected by the API server: DestinationRule "x" is invalid')
    expect(describeKubeError(status(404, 'the server could not find the requested resource'), 'kind2')).toContain('CRD')
  })
})
