/**
 * The trust step of a VirtualMesh on real API servers: the root kept in the management cluster, an intermediate per
 * mesh written as `cacerts`, and valid intermediates left alone. (sync calls it; here it is called alone.)
 */
import {afterAll, describe, expect, inject, it} from 'vitest'

import {loadResources} from '../../src/api/load.js'
import type {VirtualMesh} from '../../src/api/types.js'
import {discoverCluster} from '../../src/discovery/discover.js'
import {ClusterClient} from '../../src/kube/client.js'
import {loadKubeconfig} from '../../src/kube/kubeconfig.js'
import {readClusterObjects} from '../../src/kube/snapshot.js'
import {syncTrust} from '../../src/services/trust.js'
import {checkIntermediate, generateRoot, issueIntermediate} from '../../src/trust/ca.js'
import {GOLDEN_DIR} from '../support/golden.js'

const client = (context: string) => ClusterClient.forContext(loadKubeconfig({kubeconfig: inject('kubeconfig')}), context)
const secret = async (context: string, namespace: string, name: string) =>
  client(context).objects.read<{apiVersion: string; kind: string; metadata: {name: string; resourceVersion: string}; type: string; data: Record<string, string>}>({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}})
const text = (data: Record<string, string>, key: string) => Buffer.from(data[key], 'base64').toString('utf8')

async function setup() {
  const vm = (await loadResources([`${GOLDEN_DIR}/seed-failover/virtualmesh.yaml`])).resources[0].resource as VirtualMesh
  const meshes = []
  for (const cluster of ['kind2', 'kind3']) meshes.push(...discoverCluster(cluster, await readClusterObjects(client(cluster))).meshes)
  await client('kind1').apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'service-mesh-hub'}} as never)
  return {vm, meshes, clients: new Map(['kind2', 'kind3'].map((c) => [c, client(c)]))}
}

afterAll(async () => {
  for (const [context, namespace, name] of [['kind1', 'service-mesh-hub', 'virtual-mesh.service-mesh-hub'], ['kind2', 'istio-system', 'cacerts'], ['kind3', 'istio-system', 'cacerts']]) {
    await client(context).objects.delete({apiVersion: 'v1', kind: 'Secret', metadata: {name, namespace}} as never).catch(() => undefined)
  }
})

describe('the trust step of a VirtualMesh', () => {
  it('makes the root once, issues each mesh an intermediate under it, and then leaves valid ones alone', async () => {
    const {vm, meshes, clients} = await setup()
    const first = await syncTrust({mgmt: client('kind1'), virtualMesh: vm, meshes, clients})
    expect(first.rootCreated).toBe(true)
    expect(first.meshes.map((m) => [m.mesh, m.action])).toEqual([['istiod-istio-system-kind2', 'issued'], ['istiod-istio-system-kind3', 'issued']])
    const root = await secret('kind1', 'service-mesh-hub', 'virtual-mesh.service-mesh-hub')
    expect(root.type).toBe('solo.io/generated-signing-cert')
    const rootPem = text(root.data, 'root-cert.pem')
    for (const cluster of ['kind2', 'kind3']) {
      const cacerts = await secret(cluster, 'istio-system', 'cacerts')
      expect(Object.keys(cacerts.data).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'])
      const files = Object.fromEntries(Object.keys(cacerts.data).map((k) => [k, text(cacerts.data, k)]))
      expect((await checkIntermediate(files, rootPem)).chainsToRoot).toBe(true)
      expect(files['ca-cert.pem']).not.toBe(text((await secret(cluster === 'kind2' ? 'kind3' : 'kind2', 'istio-system', 'cacerts')).data, 'ca-cert.pem'))
    }

    const versions = await Promise.all(['kind2', 'kind3'].map(async (c) => (await secret(c, 'istio-system', 'cacerts')).metadata.resourceVersion))
    const second = await syncTrust({mgmt: client('kind1'), virtualMesh: vm, meshes, clients})
    expect(second.rootCreated).toBe(false)
    expect(second.rootFingerprint).toBe(first.rootFingerprint)
    expect(second.meshes.map((m) => m.action)).toEqual(['kept', 'kept'])
    expect(await Promise.all(['kind2', 'kind3'].map(async (c) => (await secret(c, 'istio-system', 'cacerts')).metadata.resourceVersion))).toEqual(versions)
  }, 60_000)

  it('re-issues an intermediate of another root, and fails only the mesh whose cluster it cannot reach', async () => {
    const {vm, meshes} = await setup()
    const stranger = await generateRoot({algorithm: 'ecdsa'})
    const foreign = await issueIntermediate(stranger, {trustDomain: 'kind3', istioNamespace: 'istio-system', istiodServiceAccount: 'istiod', cluster: 'kind3'})
    await client('kind3').apply({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'cacerts', namespace: 'istio-system'},
      data: Object.fromEntries(Object.entries(foreign).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))} as never, {force: true})
    const result = await syncTrust({mgmt: client('kind1'), virtualMesh: vm, meshes, clients: new Map([['kind3', client('kind3')]])})
    expect(result.meshes.map((m) => [m.cluster, m.action])).toEqual([['kind2', 'failed'], ['kind3', 'reissued']])
    expect(result.meshes[1].reason).toBe('does not chain to the current root')
    expect(result.meshes[0].errors?.join(' ')).toContain('kind2')
    const cacerts = await secret('kind3', 'istio-system', 'cacerts')
    const rootPem = text((await secret('kind1', 'service-mesh-hub', 'virtual-mesh.service-mesh-hub')).data, 'root-cert.pem')
    expect((await checkIntermediate({'ca-cert.pem': text(cacerts.data, 'ca-cert.pem'), 'root-cert.pem': text(cacerts.data, 'root-cert.pem')}, rootPem)).chainsToRoot).toBe(true)
  }, 60_000)
})
