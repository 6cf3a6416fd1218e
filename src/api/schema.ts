/**
 * The OpenAPI v3 schemas of the SMH kinds: the one source of truth for validating input files (validate.ts) and
 * for the CRDs that `install` applies (crds.ts). Keys starting with `x-smh-` are rules our validator checks that a
 * structural CRD schema cannot express (one-of groups); they are stripped from the CRDs.
 */

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  description?: string
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  additionalProperties?: Schema
  enum?: (string | number)[]
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  'x-kubernetes-preserve-unknown-fields'?: boolean
  /** At most one of these properties may be set (protobuf oneof). */
  'x-smh-one-of'?: string[][]
  /** Human words for the expected value in error messages (`a duration such as 10s`). */
  'x-smh-expect'?: string
}

const str = (description?: string): Schema => ({type: 'string', ...(description ? {description} : {})})
const int = (min?: number, max?: number, description?: string): Schema => ({
  type: 'integer',
  ...(min === undefined ? {} : {minimum: min}),
  ...(max === undefined ? {} : {maximum: max}),
  ...(description ? {description} : {}),
})
const num = (min: number, max: number, description?: string): Schema => ({type: 'number', minimum: min, maximum: max, ...(description ? {description} : {})})
const bool = (): Schema => ({type: 'boolean'})
const obj = (properties: Record<string, Schema>, required?: string[], extra: Partial<Schema> = {}): Schema => ({
  type: 'object',
  properties,
  ...(required?.length ? {required} : {}),
  ...extra,
})
const arr = (items: Schema, extra: Partial<Schema> = {}): Schema => ({type: 'array', items, ...extra})
const stringMap = (): Schema => ({type: 'object', additionalProperties: {type: 'string'}})

/** Go-style durations as Service Mesh Hub took them (`10s`, `2m`, `1h30m`, `500ms`). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$'
const duration = (description?: string): Schema => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  'x-smh-expect': 'a duration such as 10s, 500ms or 2m',
  ...(description ? {description} : {}),
})
const dnsLabel = (): Schema => ({
  type: 'string',
  minLength: 1,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  'x-smh-expect': 'a lowercase DNS label such as reviews',
})
const dnsSubdomain = (): Schema => ({
  type: 'string',
  minLength: 1,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  'x-smh-expect': 'a lowercase DNS name such as reviews or istiod-istio-system-kind2',
})
const port = (): Schema => int(1, 65535)

const objectRef = (): Schema => obj({name: dnsSubdomain(), namespace: dnsLabel()}, ['name'])
const clusterObjectRef = (): Schema =>
  obj({name: dnsSubdomain(), namespace: dnsLabel(), clusterName: dnsSubdomain()}, ['name', 'namespace', 'clusterName'])

const httpMethod = (): Schema => ({type: 'string', enum: ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']})

const trafficTargetSelector = (): Schema =>
  obj({
    kubeServiceMatcher: obj({labels: stringMap(), namespaces: arr(dnsLabel()), clusters: arr(dnsSubdomain())}),
    kubeServiceRefs: obj({services: arr(clusterObjectRef())}),
  }, undefined, {'x-smh-one-of': [['kubeServiceMatcher', 'kubeServiceRefs']]})

const workloadSelector = (): Schema => obj({labels: stringMap(), namespaces: arr(dnsLabel()), clusters: arr(dnsSubdomain())})

const identitySelector = (): Schema =>
  obj({
    kubeIdentityMatcher: obj({namespaces: arr(dnsLabel()), clusters: arr(dnsSubdomain())}),
    kubeServiceAccountRefs: obj({serviceAccounts: arr(clusterObjectRef())}),
  }, undefined, {'x-smh-one-of': [['kubeIdentityMatcher', 'kubeServiceAccountRefs']]})

const failoverServiceDestination = (): Schema => obj({name: dnsSubdomain(), namespace: dnsLabel(), subset: stringMap()}, ['name'])

const statusSchema = (): Schema => ({type: 'object', 'x-kubernetes-preserve-unknown-fields': true})

export const trafficPolicySpec: Schema = obj({
  sourceSelector: arr(workloadSelector()),
  destinationSelector: arr(trafficTargetSelector()),
  httpRequestMatchers: arr(
    obj({
      prefix: str(),
      exact: str(),
      regex: str(),
      headers: arr(obj({name: {type: 'string', minLength: 1}, value: str(), regex: bool(), invertMatch: bool()}, ['name'])),
      queryParameters: arr(obj({name: {type: 'string', minLength: 1}, value: str(), regex: bool()}, ['name'])),
      method: obj({method: httpMethod()}, ['method']),
    }, undefined, {'x-smh-one-of': [['prefix', 'exact', 'regex']]}),
  ),
  trafficShift: obj({
    destinations: arr(
      obj({
        weight: int(0, 100),
        kubeService: obj({
          name: dnsSubdomain(),
          namespace: dnsLabel(),
          clusterName: dnsSubdomain(),
          subset: stringMap(),
          port: port(),
        }, ['name', 'namespace', 'clusterName']),
        failoverServiceRef: failoverServiceDestination(),
        failoverService: failoverServiceDestination(),
      }, undefined, {'x-smh-one-of': [['kubeService', 'failoverServiceRef', 'failoverService']]}),
      {minItems: 1},
    ),
  }),
  faultInjection: obj({
    fixedDelay: duration(),
    abort: obj({httpStatus: int(200, 599)}, ['httpStatus']),
    percentage: num(0, 100),
  }, undefined, {'x-smh-one-of': [['fixedDelay', 'abort']]}),
  requestTimeout: duration(),
  retries: obj({attempts: int(0), perTryTimeout: duration()}),
  corsPolicy: obj({
    allowOrigins: arr(obj({exact: str(), prefix: str(), regex: str()}, undefined, {'x-smh-one-of': [['exact', 'prefix', 'regex']]})),
    allowMethods: arr(str()),
    allowHeaders: arr(str()),
    exposeHeaders: arr(str()),
    maxAge: duration(),
    allowCredentials: bool(),
  }),
  mirror: obj({kubeService: clusterObjectRef(), percentage: num(0, 100), port: port()}, ['kubeService']),
  headerManipulation: obj({
    appendRequestHeaders: stringMap(),
    removeRequestHeaders: arr(str()),
    appendResponseHeaders: stringMap(),
    removeResponseHeaders: arr(str()),
  }),
  outlierDetection: obj({
    consecutiveErrors: int(1, undefined, 'default 5'),
    interval: duration('default 10s'),
    baseEjectionTime: duration('default 30s'),
    maxEjectionPercent: int(0, 100, 'default 100 (Istio defaults to 10, which defeats failover)'),
  }),
  mtls: obj({istio: obj({tlsMode: {type: 'string', enum: ['DISABLE', 'SIMPLE', 'ISTIO_MUTUAL']}})}),
})

export const failoverServiceSpec: Schema = obj({
  hostname: {
    type: 'string',
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+global$',
    'x-smh-expect': 'a DNS name ending in .global such as reviews-failover.default.global',
  },
  port: obj({number: port(), protocol: {type: 'string', pattern: '^(http|http2|https|grpc|tcp|tls|mongo|mysql|redis|HTTP|HTTP2|HTTPS|GRPC|TCP|TLS|MONGO|MYSQL|REDIS)$', 'x-smh-expect': 'one of http, http2, https, grpc, tcp, tls, mongo, mysql, redis'}}, ['number']),
  meshes: arr(objectRef(), {minItems: 1}),
  backingServices: arr(obj({kubeService: clusterObjectRef()}, ['kubeService']), {minItems: 1}),
}, ['hostname', 'port', 'meshes', 'backingServices'])

export const virtualMeshSpec: Schema = obj({
  meshes: arr(objectRef(), {minItems: 1}),
  mtlsConfig: obj({
    shared: obj({
      rootCertificateAuthority: obj({
        generated: obj({ttlDays: int(1), rsaKeySizeBytes: int(1024, 8192), orgName: str()}),
        secret: objectRef(),
      }, undefined, {'x-smh-one-of': [['generated', 'secret']]}),
    }),
    limited: obj({}),
    autoRestartPods: bool(),
  }, undefined, {'x-smh-one-of': [['shared', 'limited']]}),
  federation: obj({
    permissive: obj({}, undefined, {description: 'Service Mesh Hub 0.9: every service of every mesh into every other mesh (also what federation: {} means)'}),
    onDemand: obj({}, undefined, {description: 'Only what something routes to (a FailoverService backing service, a traffic-shift or mirror destination), only into the clusters that route to it'}),
    none: obj({}, undefined, {description: 'Nothing federated: no cross-cluster routes or failover'}),
    selectors: arr(obj({
      trafficTargetSelectors: arr(trafficTargetSelector()),
      meshes: arr(objectRef()),
    }), {description: 'Gloo Mesh 1.1 style: the selected services into the listed meshes (every other member when none are listed), plus what routes need (as onDemand)'}),
  }, undefined, {'x-smh-one-of': [['permissive', 'onDemand', 'none', 'selectors']]}),
  globalAccessPolicy: {type: 'string', enum: ['MESH_DEFAULT', 'ENABLED', 'DISABLED']},
}, ['meshes'])

export const accessPolicySpec: Schema = obj({
  sourceSelector: arr(identitySelector()),
  destinationSelector: arr(trafficTargetSelector()),
  allowedPaths: arr(str()),
  allowedMethods: arr(httpMethod()),
  allowedPorts: arr(port()),
})

export const kubernetesClusterSpec: Schema = obj({
  secretName: str(),
  clusterDomain: dnsSubdomain(),
  providerInfo: {type: 'object', 'x-kubernetes-preserve-unknown-fields': true},
})

export interface KindSchema {
  group: string
  version: string
  kind: string
  plural: string
  shortNames: string[]
  spec: Schema
}

export const KIND_SCHEMAS: KindSchema[] = [
  {group: 'networking.smh.solo.io', version: 'v1alpha2', kind: 'TrafficPolicy', plural: 'trafficpolicies', shortNames: ['tp'], spec: trafficPolicySpec},
  {group: 'networking.smh.solo.io', version: 'v1alpha2', kind: 'FailoverService', plural: 'failoverservices', shortNames: ['fs'], spec: failoverServiceSpec},
  {group: 'networking.smh.solo.io', version: 'v1alpha2', kind: 'VirtualMesh', plural: 'virtualmeshes', shortNames: ['vm'], spec: virtualMeshSpec},
  {group: 'networking.smh.solo.io', version: 'v1alpha2', kind: 'AccessPolicy', plural: 'accesspolicies', shortNames: ['ap'], spec: accessPolicySpec},
  {group: 'multicluster.solo.io', version: 'v1alpha1', kind: 'KubernetesCluster', plural: 'kubernetesclusters', shortNames: ['kc'], spec: kubernetesClusterSpec},
]

export function kindSchema(kind: string): KindSchema | undefined {
  return KIND_SCHEMAS.find((k) => k.kind === kind)
}

/** The whole object's schema (what the CRD's openAPIV3Schema holds). */
export function objectSchema(kind: KindSchema): Schema {
  return obj({
    apiVersion: str(),
    kind: str(),
    metadata: {type: 'object'},
    spec: kind.spec,
    status: statusSchema(),
  }, ['spec'])
}
