import {existsSync, readFileSync, statSync} from 'node:fs'

/** One kube-apiserver audit event (audit.k8s.io/v1 Event at level Metadata), as far as tests read it. */
export interface AuditEvent {
  auditID: string
  stage: string
  requestURI: string
  verb: string
  user: {username: string; groups?: string[]}
  impersonatedUser?: {username: string; groups?: string[]}
  userAgent?: string
  objectRef?: AuditObjectRef
  responseStatus?: {code?: number}
  /** Where the event's line starts in the log (bytes): compare with an auditMark. */
  offset: number
}

export interface AuditObjectRef {
  resource?: string
  namespace?: string
  name?: string
  subresource?: string
  apiGroup?: string
  apiVersion?: string
}

/** A write request as tests compare it. */
export interface AuditWrite {
  /** Who it acted as: the impersonated user if any, else the authenticated one. */
  user: string
  verb: string
  objectRef: AuditObjectRef
  /** The HTTP status the server answered (a refused write is still a write request). */
  code?: number
  requestURI: string
  userAgent?: string
  offset: number
}

/** Verbs that ask to change stored state. Server-side apply is `patch`. */
export const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection'])

/** Creates that store nothing: access and token reviews, and TokenRequest (serviceaccounts/token). */
const STORES_NOTHING = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews', 'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/localsubjectaccessreviews', 'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/tokenreviews', 'authentication.k8s.io/selfsubjectreviews',
])

/**
 * A position in an audit log: its size now (0 before the file exists). Events of a later readAudit(file, mark)
 * are those logged after it, e.g. by one command run in between.
 */
export type AuditMark = number

export function auditMark(file: string): AuditMark {
  return existsSync(file) ? statSync(file).size : 0
}

/**
 * The events logged in file from byte `since` on (the whole log by default). A last line still being written
 * (no newline yet) is left for the next read.
 */
export function readAudit(file: string, since: AuditMark = 0): AuditEvent[] {
  if (!existsSync(file)) return []
  const bytes = readFileSync(file)
  const events: AuditEvent[] = []
  let start = since
  // A mark taken while a line was being written falls inside it: that event belongs before the mark.
  if (start > 0 && bytes[start - 1] !== 0x0a) start = bytes.indexOf(0x0a, start) + 1 || bytes.length
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start)
    if (end < 0) break
    const line = bytes.subarray(start, end).toString('utf8').trim()
    if (line) {
      try {
        events.push({...(JSON.parse(line) as Omit<AuditEvent, 'offset'>), offset: start})
      } catch {
        throw new Error(`${file}: the line at byte ${start} is not JSON: ${line.slice(0, 200)}`)
      }
    }
    start = end + 1
  }
  return events
}

/** Whether the request asked for a dry run (dryRun=All): the server stored nothing. */
export function isDryRun(event: Pick<AuditEvent, 'requestURI'>): boolean {
  const query = new URL(event.requestURI, 'https://audit.invalid').searchParams
  return query.getAll('dryRun').some((v) => v !== '')
}

export function actingUser(event: AuditEvent): string {
  return event.impersonatedUser?.username ?? event.user.username
}

export interface WriteFilter {
  /** Only writes acting as this user (exact name, or a pattern), e.g. 'admin' or /^system:serviceaccount:/. */
  user?: string | RegExp
  /** Only events logged at or after this mark. */
  since?: AuditMark
  /** Leave out creates that store nothing (access/token reviews, TokenRequests). Off: every write verb counts. */
  skipReviews?: boolean
}

/**
 * The write requests among events (create, update, patch, delete, deletecollection on a resource, answered or
 * refused), dry runs left out, oldest first.
 */
export function writesBy(events: AuditEvent[], filter: WriteFilter = {}): AuditWrite[] {
  const {user, since = 0} = filter
  return events
    .filter((e) => e.offset >= since && WRITE_VERBS.has(e.verb) && e.objectRef !== undefined)
    // Only the final stage: a write has no ResponseStarted, and a server panic logs Panic instead.
    .filter((e) => e.stage === 'ResponseComplete' || e.stage === 'Panic')
    .filter((e) => !isDryRun(e))
    .filter((e) => user === undefined || (typeof user === 'string' ? actingUser(e) === user : user.test(actingUser(e))))
    .filter((e) => !filter.skipReviews || !storesNothing(e.objectRef!))
    .map((e) => ({
      user: actingUser(e), verb: e.verb, objectRef: e.objectRef!, code: e.responseStatus?.code,
      requestURI: e.requestURI, userAgent: e.userAgent, offset: e.offset,
    }))
}

function storesNothing(ref: AuditObjectRef): boolean {
  if (ref.resource === 'serviceaccounts' && ref.subresource === 'token') return true
  return STORES_NOTHING.has(`${ref.apiGroup ?? ''}/${ref.resource ?? ''}`)
}

/** One line per write, for readable test failures: `admin patch deployments default/reviews-v1 (200)`. */
export function describeWrite(w: AuditWrite): string {
  const {resource, subresource, namespace, name, apiGroup} = w.objectRef
  const what = `${resource ?? '?'}${apiGroup ? `.${apiGroup}` : ''}${subresource ? `/${subresource}` : ''}`
  const which = [namespace, name].filter(Boolean).join('/')
  return `${w.user} ${w.verb} ${what}${which ? ` ${which}` : ''} (${w.code ?? '?'})`
}

/**
 * Waits until an event matching `matches` is logged after `since`, and returns it. The server writes an event
 * as its handler returns, which can be just after the client has its answer.
 */
export async function waitForAuditEvent(
  file: string, matches: (e: AuditEvent) => boolean, options: {since?: AuditMark; timeoutMs?: number} = {},
): Promise<AuditEvent> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const found = readAudit(file, options.since).find(matches)
    if (found) return found
    if (Date.now() > deadline) throw new Error(`no matching audit event in ${file} after ${options.timeoutMs ?? 10_000} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
