import type {KubernetesObject} from '@kubernetes/client-node'

import type {ClusterClient} from './client.js'

/** Page size for list calls: kubectl's own default (`--chunk-size=500`). */
export const LIST_PAGE_SIZE = 500

export interface ListOptions {
  namespace?: string
  labelSelector?: string
  /** Page size; kubectl's default unless a caller needs another. */
  limit?: number
}

/**
 * Every object of one kind, read in pages (`limit` + `continue`) as kubectl does, so a cluster with 10,000 pods
 * answers in bounded pieces instead of one response the API server must build in memory.
 */
export async function listAll<T extends KubernetesObject = KubernetesObject>(client: ClusterClient, apiVersion: string, kind: string, options: ListOptions = {}): Promise<T[]> {
  const items: T[] = []
  let continueToken: string | undefined
  do {
    const page = await client.objects.list<T>(apiVersion, kind, options.namespace, undefined, undefined, undefined, undefined, options.labelSelector, options.limit ?? LIST_PAGE_SIZE, continueToken)
    // A list response's items carry no apiVersion/kind: give them back, as kubectl does in its output.
    for (const item of page.items) items.push({apiVersion, kind, ...item} as T)
    // Raw JSON (our client does not map through client-node's models): the field is `continue`, not `_continue`.
    continueToken = (page.metadata as {continue?: string} | undefined)?.continue || undefined
  } while (continueToken)
  return items
}
