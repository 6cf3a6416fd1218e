import {describe, expect, it} from 'vitest'

import {createOnlyCacertsPolicy, registrationRules} from '../../../src/services/register.js'

describe('the RBAC a registration grants', () => {
  const rules = registrationRules([{namespace: 'istio-system', configMaps: ['istio'], deployments: ['istio-ingressgateway', 'istiod']}])

  it('reads cluster-wide only the kinds discovery lists, and never Secrets or ConfigMaps', () => {
    const read = rules.cluster.filter((r) => r.verbs.join() === 'list')
    expect(read).toEqual([
      {apiGroups: [''], resources: ['pods', 'services'], verbs: ['list']},
      {apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], verbs: ['list']},
    ])
    // stats: each Istio proxy's Prometheus stats through the API server's pod proxy, GET only.
    expect(rules.cluster.filter((r) => r.resources.includes('pods/proxy'))).toEqual([{apiGroups: [''], resources: ['pods/proxy'], verbs: ['get']}])
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

  it('in the Istio namespace: the mesh config, cacerts and the control plane Deployments, each by name (creates are checked by admission)', () => {
    expect(rules.namespaced).toEqual([{namespace: 'istio-system', rules: [
      {apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: ['istio']},
      {apiGroups: [''], resources: ['secrets'], verbs: ['delete', 'get', 'patch'], resourceNames: ['cacerts']},
      {apiGroups: [''], resources: ['secrets'], verbs: ['create']},
      {apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'], resourceNames: ['istio-ingressgateway', 'istiod']},
    ]}])
  })

  it('admits Secret creates by the registration only for cacerts', () => {
    const [policy, binding] = createOnlyCacertsPolicy('kind3', {}) as {spec: Record<string, any>}[]
    expect(policy.spec.matchConditions[0].expression).toBe("request.userInfo.username == 'system:serviceaccount:service-mesh-hub:kind3'")
    expect(policy.spec.validations[0].expression).toBe("object.metadata.name == 'cacerts'")
    expect(binding.spec).toEqual({policyName: 'kubectl-smh-kind3', validationActions: ['Deny']})
  })
})
