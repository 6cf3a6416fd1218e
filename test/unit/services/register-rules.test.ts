import {describe, expect, it} from 'vitest'

import {registrationRules} from '../../../src/services/register.js'

describe('the RBAC a registration grants', () => {
  const rules = registrationRules([{namespace: 'istio-system', configMaps: ['istio'], deployments: ['istio-ingressgateway', 'istiod']}])

  it('reads cluster-wide only the kinds discovery lists, and never Secrets or ConfigMaps', () => {
    const read = rules.cluster.filter((r) => r.verbs.join() === 'list')
    expect(read).toEqual([
      {apiGroups: [''], resources: ['pods', 'services'], verbs: ['list']},
      {apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: ['list']},
    ])
    expect(rules.cluster.flatMap((r) => r.resources)).not.toContain('secrets')
    expect(rules.cluster.flatMap((r) => r.resources)).not.toContain('configmaps')
  })

  it('writes only the Istio kinds the translator generates', () => {
    const write = rules.cluster.filter((r) => r.verbs.includes('patch'))
    expect(write.map((r) => [r.apiGroups[0], r.resources])).toEqual([
      ['networking.istio.io', ['destinationrules', 'envoyfilters', 'gateways', 'serviceentries', 'virtualservices']],
      ['security.istio.io', ['authorizationpolicies']],
    ])
  })

  it('in the Istio namespace: the mesh config, cacerts and the control plane Deployments, each by name', () => {
    expect(rules.namespaced).toEqual([{namespace: 'istio-system', rules: [
      {apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['istio']},
      {apiGroups: [''], resources: ['secrets'], verbs: ['delete', 'get', 'patch'], resourceNames: ['cacerts']},
      {apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['istio-ingressgateway', 'istiod']},
    ]}])
  })
})
