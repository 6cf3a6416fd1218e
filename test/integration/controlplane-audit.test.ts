import {existsSync, readFileSync} from 'node:fs'

import {
  AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api,
} from '@kubernetes/client-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runningProcesses, startClusterServer, stopClusterServer} from '../../src/controlplane/control-plane.js'
import {ClusterClient} from '../../src/kube/client.js'
import {forContext, loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {describeWrite, isDryRun, readAudit, writesBy} from '../support/audit.js'
import {type SeededClusters, startSeededClusters} from '../support/clusters.js'

let env: SeededClusters
const kc = () => loadKubeconfig({kubeconfig: env.kubeconfig})
const core = (cluster: string) => forContext(kc(), cluster).makeApiClient(CoreV1Api)

/** Whether pid is a live process according to /proc (a zombie is dead). */
function liveInProc(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

/** A ServiceAccount of kind2 allowed to write ConfigMaps in default, and a kubeconfig that acts as it. */
async function serviceAccountWriter(cluster: string, name: string): Promise<KubeConfig> {
  const admin = forContext(kc(), cluster)
  await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({namespace: 'default', body: {metadata: {name}}})
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
  await rbac.createNamespacedRole({namespace: 'default', body: {
    metadata: {name}, rules: [{apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch']}],
  }})
  await rbac.createNamespacedRoleBinding({namespace: 'default', body: {
    metadata: {name}, roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name},
    subjects: [{kind: 'ServiceAccount', name, namespace: 'default'}],
  }})
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({name, namespace: 'default', body: {spec: {audiences: []}}})
  const as = new KubeConfig()
  as.loadFromOptions({
    clusters: [admin.getCurrentCluster()!],
    users: [{name, token: token.status!.token}],
    contexts: [{name: cluster, cluster: admin.getCurrentCluster()!.name, user: name}],
    currentContext: cluster,
  })
  return as
}

beforeAll(async () => {
  env = await startSeededClusters({audit: true})
  process.stderr.write(`[controlplane-audit] own ${env.clusters.join(', ')} with audit up and seeded in ${(env.startupMs / 1000).toFixed(1)}s\n`)
})

afterAll(async () => {
  await env?.stop()
})

describe('audit logs of the local API servers', () => {
  it("logs a write under the identity that made it, in that cluster's log and no other's", async () => {
    const writer = await serviceAccountWriter('kind2', 'audit-writer')
    const marks = env.markAudit()
    await writer.makeApiClient(CoreV1Api).createNamespacedConfigMap({namespace: 'default', body: {metadata: {name: 'audit-probe'}, data: {a: '1'}}})

    const byServiceAccounts = await env.writesSince(marks, {user: /^system:serviceaccount:/})
    expect(byServiceAccounts.kind2.map(describeWrite)).toEqual(['system:serviceaccount:default:audit-writer create configmaps default/audit-probe (201)'])
    expect(byServiceAccounts.kind1).toEqual([])
    expect(byServiceAccounts.kind3).toEqual([])
    // Whoever else wrote meanwhile (the servers themselves), nobody wrote the probe elsewhere or as admin.
    const all = await env.writesSince(marks)
    expect([...all.kind1, ...all.kind3].filter((w) => w.objectRef.name === 'audit-probe')).toEqual([])
    expect(all.kind2.filter((w) => w.user === 'admin')).toEqual([])
  })

  it('does not count reads as writes', async () => {
    const marks = env.markAudit()
    await core('kind2').readNamespacedConfigMap({name: 'audit-probe', namespace: 'default'})
    await core('kind2').listNamespacedConfigMap({namespace: 'default'})
    await env.settleAudit()
    const events = readAudit(env.auditLog('kind2'), marks.kind2)
    const reads = events.filter((e) => e.user.username === 'admin' && e.objectRef?.resource === 'configmaps')
    expect(reads.map((e) => e.verb)).toEqual(expect.arrayContaining(['get', 'list']))
    expect(writesBy(events, {user: 'admin'})).toEqual([])
  })

  it('leaves out dry runs, and counts the real write that follows', async () => {
    const client = ClusterClient.forContext(kc(), 'kind2')
    const object = {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'audit-probe', namespace: 'default'}, data: {b: '2'}}
    const marks = env.markAudit()
    await client.apply(object, {dryRun: true})
    await env.settleAudit(['kind2'])
    const afterDryRun = readAudit(env.auditLog('kind2'), marks.kind2)
    // The dry run reached the server and was logged, as a patch with dryRun=All.
    expect(afterDryRun.filter((e) => e.verb === 'patch' && e.objectRef?.name === 'audit-probe').map(isDryRun)).toEqual([true])
    expect(writesBy(afterDryRun, {user: 'admin'})).toEqual([])

    await client.apply(object)
    const writes = await env.writesSince(marks, {user: 'admin'})
    expect(writes.kind2.map(describeWrite)).toEqual(['admin patch configmaps default/audit-probe (200)'])
  })

  it('counts access reviews and TokenRequests as writes unless told to skip them', async () => {
    const admin = forContext(kc(), 'kind3')
    const marks = env.markAudit()
    await admin.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({body: {spec: {resourceAttributes: {verb: 'get', resource: 'pods'}}}})
    await admin.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({body: {}})
    const all = await env.writesSince(marks, {user: 'admin'})
    expect(all.kind3.map(describeWrite)).toEqual([
      'admin create selfsubjectaccessreviews.authorization.k8s.io (201)',
      'admin create selfsubjectreviews.authentication.k8s.io (201)',
    ])
    expect((await env.writesSince(marks, {user: 'admin', skipReviews: true})).kind3).toEqual([])
  })
})

describe('stopping and restarting one API server', () => {
  it('kills it, leaves the others serving, and starts it again with its data, port and kubeconfig intact', async () => {
    await ClusterClient.forContext(kc(), 'kind3').apply({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'survives-restart', namespace: 'default'}, data: {kept: 'yes'}})
    const kubeconfigBefore = readFileSync(env.kubeconfig, 'utf8')
    const before = env.state.clusters.find((c) => c.name === 'kind3')!
    const marks = env.markAudit()

    const stopped = await env.stopServer('kind3', {signal: 'SIGKILL'})
    expect(stopped?.pid).toBe(before.pid)
    expect(liveInProc(before.pid)).toBe(false)
    await expect(core('kind3').readNamespacedConfigMap({name: 'survives-restart', namespace: 'default'})).rejects.toThrow()
    expect((await core('kind2').readNamespace({name: 'default'})).metadata?.name).toBe('default')
    // Stopping what is already stopped is nothing to do.
    expect(await env.stopServer('kind3')).toBeUndefined()

    const restartBegan = Date.now()
    const restarted = await env.startServer('kind3')
    process.stderr.write(`[controlplane-audit] kind3's API server ready again ${((Date.now() - restartBegan) / 1000).toFixed(1)}s after its restart\n`)
    expect(restarted.pid).not.toBe(before.pid)
    const after = env.state.clusters.find((c) => c.name === 'kind3')!
    expect(after).toEqual({...before, pid: restarted.pid})
    expect(liveInProc(after.pid)).toBe(true)
    expect(readFileSync(`/proc/${after.pid}/cmdline`, 'utf8').split('\0').slice(1, -1)).toEqual(before.args)

    // The same kubeconfig (unchanged, read afresh) reaches it, and the data written before is there.
    expect(readFileSync(env.kubeconfig, 'utf8')).toBe(kubeconfigBefore)
    expect((await core('kind3').readNamespacedConfigMap({name: 'survives-restart', namespace: 'default'})).data).toEqual({kept: 'yes'})
    // The audit log went on in the same file: a mark taken before the crash still counts what follows.
    await ClusterClient.forContext(kc(), 'kind3').apply({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'survives-restart', namespace: 'default'}, data: {kept: 'again'}})
    expect((await env.writesSince(marks, {user: 'admin'})).kind3.map(describeWrite)).toEqual(['admin patch configmaps default/survives-restart (200)'])

    await expect(env.startServer('kind3')).rejects.toThrow(/^kube-apiserver for "kind3" already runs \(pid \d+\): stop it first$/)
    await expect(stopClusterServer(env.dir, 'kind9')).rejects.toThrow(/no cluster "kind9" is recorded in .*state\.json \(known: kind1, kind2, kind3\)/)
    await expect(startClusterServer(env.dir, 'kind9')).rejects.toThrow(/no cluster "kind9"/)
  })

  it('stops everything state.json records, a server restarted after a graceful stop included, leaving no process', async () => {
    const before = env.state.clusters.find((c) => c.name === 'kind2')!
    await env.stopServer('kind2') // SIGTERM: a graceful shutdown
    expect(liveInProc(before.pid)).toBe(false)
    const restarted = await env.startServer('kind2')
    const state = env.state
    expect(runningProcesses(state).map((p) => p.pid)).toContain(restarted.pid)
    const pids = [state.etcd.pid, ...state.clusters.map((c) => c.pid)]
    await env.stop()
    expect(pids.filter(liveInProc)).toEqual([])
  })
})
