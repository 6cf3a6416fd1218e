import {ApiException} from '@kubernetes/client-node'

import {SmhError} from '../errors.js'

interface StatusBody {
  kind?: string
  message?: string
  reason?: string
  details?: {causes?: {field?: string; message?: string}[]}
}

/**
 * Turns whatever a Kubernetes call threw into one readable line that names the cluster (context) and says what
 * to do. ApiException.message is a long "HTTP-Code … Body … Headers" blob that must never reach a user.
 */
export interface ErrorHints {
  /** What fixes refused credentials here (a registered cluster's stored token: re-register it). */
  unauthorizedFix?: string
}

export function describeKubeError(error: unknown, context: string, hints: ErrorHints = {}): string {
  if (error instanceof ApiException) {
    const status = parseStatus(error.body)
    const what = cleanMessage(status?.message ?? `HTTP ${error.code}`)
    // Server-side apply reports a body that does not fit the schema as a 500 "failed to create typed patch object".
    if (error.code === 500 && /failed to create typed patch object/.test(what)) {
      return `cluster "${context}": rejected by the API server: ${what}`
    }
    switch (error.code) {
      case 401:
        return `cluster "${context}": the credentials were refused (401 Unauthorized): ${hints.unauthorizedFix ?? 'refresh them in the kubeconfig (or re-register the cluster)'}`
      case 403:
        return `cluster "${context}": forbidden: ${what}: grant the missing RBAC permission or use another identity`
      case 404:
        return `cluster "${context}": not found: ${what}: is the resource (or its CRD) installed there? (kubectl smh install for ours)`
      case 409:
        return `cluster "${context}": conflict: ${what}: another field manager owns it; re-run with --force-conflicts to take it over`
      case 422:
      case 400:
        return `cluster "${context}": rejected by the API server: ${what}`
      default:
        return `cluster "${context}": the API server answered ${error.code}: ${what}`
    }
  }
  const err = error as NodeJS.ErrnoException & {cause?: NodeJS.ErrnoException; type?: string}
  const code = err?.code ?? err?.cause?.code
  const message = err?.message ?? String(error)
  if (err?.name === 'AbortError' || err?.type === 'aborted' || code === 'ABORT_ERR') {
    return `cluster "${context}": no answer within --request-timeout: is it up, or is the timeout too short?`
  }
  if (code === 'ECONNREFUSED') {
    return `cluster "${context}": connection refused (${hostOf(message)}): is the cluster up? (kubectl --context ${context} cluster-info; for the demo: kubectl smh demo status)`
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `cluster "${context}": cannot resolve the API server's host (${hostOf(message)}): check the server address in the kubeconfig`
  }
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH') {
    return `cluster "${context}": the API server cannot be reached (${code}): check the network path and the server address`
  }
  if (/certificate|self[- ]signed|CERT_|SSL|TLS/i.test(`${code ?? ''} ${message}`)) {
    return `cluster "${context}": TLS failed (${code ?? message}): check certificate-authority-data in the kubeconfig`
  }
  return `cluster "${context}": ${message}`
}

/** The API server answered 404: no such object (or no such kind there). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404
}

/** An SmhError (exit 1) for a failed call against one cluster. */
export function kubeError(error: unknown, context: string, hints: ErrorHints = {}): SmhError {
  if (error instanceof SmhError) return error
  return new SmhError(describeKubeError(error, context, hints))
}

/** Go's value dumps (`&value.valueUnstructured{Value:12}`) as the plain value. */
function cleanMessage(message: string): string {
  return message.replace(/&value\.valueUnstructured\{Value:([^}]*)\}/g, '$1')
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'object') return body as StatusBody
  try {
    return JSON.parse(String(body)) as StatusBody
  } catch {
    return {message: String(body)}
  }
}

function hostOf(message: string): string {
  const match = /(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[^\]]+\]:\d+|[\w.-]+:\d+)/.exec(message)
  return match ? match[1] : 'its address'
}
