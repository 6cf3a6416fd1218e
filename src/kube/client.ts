import {
  type Configuration,
  HttpMethod,
  type KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node'

import {type ErrorHints, describeKubeError, isNotFound, kubeError} from './errors.js'
import {forContext} from './kubeconfig.js'

import {Agent} from 'node:https'

export const FIELD_MANAGER = 'kubectl-smh'
const MAX_ATTEMPTS_ON_429 = 10
/** processResponse's type for a plain-text answer (a pod's proxy subresource), returned as is. */
const TEXT = 'text/plain'

/**
 * The generic object API, but JSON in and JSON out. client-node's own serializer maps known kinds through its
 * typed models, which drops fields whose JSON names differ from the model's (a CRD's `x-kubernetes-int-or-string`
 * is lost) and turns timestamps into Dates; objects we read and write are plain JSON, as kubectl shows them.
 */
export class JsonObjectApi extends KubernetesObjectApi {
  protected override async processResponse<T extends KubernetesObject>(response: ResponseContext, type?: string): Promise<T> {
    const text = await response.body.text()
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return (type === TEXT ? text : JSON.parse(text)) as T
    const {ApiException} = await import('@kubernetes/client-node')
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', body, response.headers)
  }

  /**
   * Retries what the API server asks to be retried (429 with Retry-After: e.g. a new CRD's storage still
   * initializing), as kubectl does, a bounded number of times.
   */
  protected override async requestPromise<T extends KubernetesObject>(request: RequestContext, type?: string, options?: Configuration): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.requestPromise<T>(request, type, options)
      } catch (error) {
        const e = error as {code?: number; headers?: Record<string, string>}
        if (e.code !== 429 || attempt >= MAX_ATTEMPTS_ON_429) throw error
        const retryAfter = Number(e.headers?.['retry-after'] ?? 1)
        await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(retryAfter, 0.1), 2) * 1000))
      }
    }
  }

  /** GET of an API server path as text (e.g. a pod's `proxy` subresource), with this cluster's auth and agent. */
  async getText(path: string, options: {timeoutMs?: number} = {}): Promise<string> {
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET)
    request.setHeaderParam('Accept', 'text/plain, */*')
    if (options.timeoutMs) request.setSignal(AbortSignal.timeout(options.timeoutMs))
    return (await this.requestPromise(request, TEXT)) as unknown as string
  }

  /** Server-side apply of a JSON-shaped object, sent as is. */
  async applyJson<T extends KubernetesObject>(object: T, options: {dryRun?: boolean; force?: boolean; fieldManager: string; subresource?: 'status'}): Promise<T> {
    const path = (await this.specUriPath(object, 'patch')) + (options.subresource ? `/${options.subresource}` : '')
    const request = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH)
    request.setHeaderParam('Accept', 'application/json')
    request.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply)
    request.setQueryParam('fieldManager', options.fieldManager)
    if (options.force) request.setQueryParam('force', 'true')
    if (options.dryRun) request.setQueryParam('dryRun', 'All')
    request.setBody(JSON.stringify(object))
    return this.requestPromise<T>(request)
  }
}

export interface ClientOptions {
  /** --request-timeout in milliseconds; 0 or undefined means none (client-node has none of its own). */
  requestTimeoutMs?: number
  /** How this cluster's errors are explained (a registered cluster says how to re-register). */
  hints?: ErrorHints
}

/**
 * One cluster's API: the generic object client with two things client-node lacks, a per-request timeout and
 * `fieldValidation=Strict` on writes (what kubectl sends), both added by request middleware.
 */
export class ClusterClient {
  readonly objects: JsonObjectApi

  readonly hints: ErrorHints

  constructor(
    readonly context: string,
    readonly kubeconfig: KubeConfig,
    readonly options: ClientOptions = {},
  ) {
    this.hints = options.hints ?? {}
    const cluster = kubeconfig.getCurrentCluster()
    if (!cluster) throw new Error(`context ${context} has no cluster`)
    // client-node makes a new https.Agent, so a new TLS connection, for every request (measured: 13,640 handshakes
    // for one sync of 13,137 objects). One keep-alive agent per cluster reuses connections.
    let agent: Promise<Agent> | undefined
    const sharedAgent = (): Promise<Agent> => (agent ??= (async () => {
      const tls: {ca?: Buffer; cert?: Buffer; key?: Buffer; pfx?: Buffer; passphrase?: string; rejectUnauthorized?: boolean} = {}
      await kubeconfig.applyToHTTPSOptions(tls as never)
      return new Agent({keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, pfx: tls.pfx, passphrase: tls.passphrase,
        ...(tls.rejectUnauthorized === undefined ? {} : {rejectUnauthorized: tls.rejectUnauthorized})})
    })())
    const https = cluster.server.startsWith('https:')
    const middleware = {
      async pre(request: RequestContext): Promise<RequestContext> {
        if (https) request.setAgent(await sharedAgent())
        const method = request.getHttpMethod()
        if (method === 'POST' || method === 'PUT' || method === 'PATCH') request.setQueryParam('fieldValidation', 'Strict')
        if (options.requestTimeoutMs) request.setSignal(AbortSignal.timeout(options.requestTimeoutMs))
        return request
      },
      async post(response: ResponseContext): Promise<ResponseContext> {
        return response
      },
    }
    const config = createConfiguration({
      authMethods: {default: kubeconfig},
      baseServer: new ServerConfiguration(cluster.server, {}),
      promiseMiddleware: [middleware],
    })
    this.objects = new JsonObjectApi(config)
  }

  static forContext(kc: KubeConfig, context: string, options: ClientOptions = {}): ClusterClient {
    return new ClusterClient(context, forContext(kc, context), options)
  }

  /** Server-side apply as field manager kubectl-smh, validated strictly by the API server. */
  async apply<T extends KubernetesObject>(object: T, options: {dryRun?: boolean; force?: boolean; subresource?: 'status'} = {}): Promise<T> {
    return this.objects.applyJson(object, {...options, fieldManager: FIELD_MANAGER})
  }

  /** The object, or undefined when it does not exist. */
  async readIfExists<T extends KubernetesObject>(ref: {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}}): Promise<T | undefined> {
    try {
      return await this.objects.read<T>(ref as never)
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  /** Deletes the object; false when it was already gone (someone else deleting it too is the state we want). */
  async deleteIfExists(ref: {apiVersion: string; kind: string; metadata: {name: string; namespace?: string}}): Promise<boolean> {
    try {
      await this.objects.delete(ref as never)
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw error
    }
  }

  /** One line naming this cluster: what failed and how to fix it. */
  describe(error: unknown): string {
    return describeKubeError(error, this.context, this.hints)
  }

  error(error: unknown): ReturnType<typeof kubeError> {
    return kubeError(error, this.context, this.hints)
  }
}
