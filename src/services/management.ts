/**
 * The management cluster: where the SMH resources and the registrations live (DESIGN.md §2). Reading them is
 * shared by every command that syncs, lists or registers.
 */
import {type InputProblem, checkResources, formatProblem} from '../api/parse.js'
import {KIND_SCHEMAS, type KindSchema} from '../api/schema.js'
import {SMH_NAMESPACE, type SmhResource, resourceId} from '../api/types.js'
import {SmhError, UsageError} from '../errors.js'
import {type ClientOptions, ClusterClient} from '../kube/client.js'
import {isNotFound} from '../kube/errors.js'
import {loadKubeconfig, managementContext} from '../kube/kubeconfig.js'
import {listAll} from '../kube/list.js'

export interface ManagementOptions extends ClientOptions {
  kubeconfig?: string
  mgmtContext?: string
}

/** A client for the management cluster, with the user's own kubeconfig credentials. */
export function managementClient(options: ManagementOptions): ClusterClient {
  const kc = loadKubeconfig({kubeconfig: options.kubeconfig})
  return ClusterClient.forContext(kc, managementContext(kc, options.mgmtContext), options)
}

export const apiVersionOf = (kind: KindSchema) => `${kind.group}/${kind.version}`

/** The SMH kinds' CRDs are missing: one line with the fix. */
export function notInstalled(mgmt: ClusterClient): UsageError {
  return new UsageError(`the SMH CRDs are not installed in the management cluster "${mgmt.context}": run kubectl smh install --mgmt-context ${mgmt.context}`)
}

/** Lists one SMH kind in every namespace; a missing CRD says to install. */
export async function listSmhKind(mgmt: ClusterClient, kind: KindSchema): Promise<Record<string, unknown>[]> {
  try {
    return await listAll(mgmt, apiVersionOf(kind), kind.kind, kind.kind === 'KubernetesCluster' ? {namespace: SMH_NAMESPACE} : {}) as unknown as Record<string, unknown>[]
  } catch (error) {
    if (isNotFound(error)) throw notInstalled(mgmt)
    throw mgmt.error(error)
  }
}

export interface ManagementResources {
  /** Valid resources (the translator orders them: oldest first, as Service Mesh Hub did). */
  resources: SmhResource[]
  /** Resources stored in the cluster that our validator rejects (the CRD schema cannot say everything). */
  invalid: {id: string; generation?: number; problems: string[]}[]
  /** Every stored resource by id, as read (for status comparison). */
  stored: Map<string, Record<string, unknown>>
}

/** Every SMH resource in the management cluster, checked as `-f` files are. */
export async function readManagementResources(mgmt: ClusterClient): Promise<ManagementResources> {
  const lists = await Promise.all(KIND_SCHEMAS.map((kind) => listSmhKind(mgmt, kind)))
  const objects = lists.flat()
  const where = `cluster ${mgmt.context}`
  const checked = checkResources(objects.map((object) => ({object, origin: {file: where, line: 0}, lineOf: () => undefined})))
  const stored = new Map(objects.map((o) => [resourceId(o as never), o]))
  const problemsById = new Map<string, string[]>()
  for (const problem of checked.problems) {
    const id = problem.resource ?? '?'
    problemsById.set(id, [...(problemsById.get(id) ?? []), formatProblem({...problem, file: undefined, resource: undefined} as InputProblem)])
  }
  const invalid = [...problemsById.entries()].map(([id, problems]) => ({id, generation: (stored.get(id)?.metadata as {generation?: number} | undefined)?.generation, problems}))
  return {resources: checked.resources.map((r) => r.resource), invalid, stored}
}

/** The mgmt cluster must be reachable for anything to happen: its failure is the command's failure. */
export function managementUnreachable(mgmt: ClusterClient, error: unknown): SmhError {
  return error instanceof SmhError ? error : mgmt.error(error)
}
