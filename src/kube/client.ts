import {
  type KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  createConfiguration,
} from '@kubernetes/client-node'

import {forContext} from './kubeconfig.js'

export const FIELD_MANAGER = 'kubectl-smh'

export interface ClientOptions {
  /** --request-timeout in milliseconds; 0 or undefined means none (client-node has none of its own). */
  requestTimeoutMs?: number
}

/**
 * One cluster's API: the generic object client with two things client-node lacks, a per-request timeout and
 * `fieldValidation=Strict` on writes (what kubectl sends), both added by request middleware.
 */
export class ClusterClient {
  readonly objects: KubernetesObjectApi

  constructor(
    readonly context: string,
    readonly kubeconfig: KubeConfig,
    options: ClientOptions = {},
  ) {
    const cluster = kubeconfig.getCurrentCluster()
    if (!cluster) throw new Error(`context ${context} has no cluster`)
    const middleware = {
      async pre(request: RequestContext): Promise<RequestContext> {
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
    this.objects = new KubernetesObjectApi(config)
  }

  static forContext(kc: KubeConfig, context: string, options: ClientOptions = {}): ClusterClient {
    return new ClusterClient(context, forContext(kc, context), options)
  }

  /** Server-side apply as field manager kubectl-smh, validated strictly by the API server. */
  async apply<T extends KubernetesObject>(object: T, options: {dryRun?: boolean; force?: boolean} = {}): Promise<T> {
    return this.objects.patch(
      object,
      undefined,
      options.dryRun ? 'All' : undefined,
      FIELD_MANAGER,
      options.force ?? false,
      PatchStrategy.ServerSideApply,
    )
  }
}
