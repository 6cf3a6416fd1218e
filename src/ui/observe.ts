/** How describe, check and simulate read on a terminal: kubectl describe's sections, linkerd check's lines. */
import type {ChalkInstance} from 'chalk'

import type {CheckReport} from '../observe/check.js'
import type {Description, GeneratedRef, StatusView} from '../observe/describe.js'
import type {ClientView, Simulation} from '../observe/simulate.js'
import {estimateTable} from './verbs.js'
import {renderTable} from './output.js'

const indent = (text: string, by = 2) => text.split('\n').map((l) => (l ? ' '.repeat(by) + l : l)).join('\n')

/** `Key:   value` lines, aligned. */
function fields(pairs: [string, string | number | undefined][]): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== '')
  const width = Math.max(...shown.map(([k]) => k.length)) + 2
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n')
}

function section(title: string, body: string): string {
  return `${title}:\n${body ? indent(body) : '  <none>'}`
}

function statusLines(status: StatusView): [string, string | undefined][] {
  return [
    ['State', status.state ? `${status.state}${status.observedGeneration !== undefined ? ` (generation ${status.observedGeneration}${status.generation !== undefined && status.generation !== status.observedGeneration ? `, now ${status.generation}: not synced` : ''})` : ''}` : '(not synced)'],
    ['Errors', status.errors.length ? status.errors.join('; ') : undefined],
    ['Warnings', status.warnings.length ? status.warnings.join('; ') : undefined],
    ['Next sync', status.pending],
  ]
}

function generatedSection(generated: GeneratedRef[]): string {
  const live = generated.some((g) => g.live !== undefined)
  return section('Generated objects', table(generated, [
    {header: 'cluster', get: (g) => g.cluster},
    {header: 'kind', get: (g) => g.kind},
    {header: 'namespace', get: (g) => g.namespace},
    {header: 'name', get: (g) => g.name},
    ...(live ? [{header: 'in cluster', get: (g: GeneratedRef) => (g.live ? 'yes' : 'MISSING')}] : []),
  ]))
}

const table = <Row>(rows: Row[], columns: Parameters<typeof renderTable<Row>>[1]) => (rows.length ? renderTable(rows, columns) : '')
const labels = (l?: Record<string, string>) => (l ? Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',') : '')

export function renderDescription(d: Description): string {
  switch (d.kind) {
    case 'service':
      return [
        fields([['Name', d.name], ['Service', d.ref], ['Mesh', d.mesh], ['Ports', d.ports.map((p) => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`).join(', ')],
          ['Subsets', Object.entries(d.subsets).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ') || 'none']]),
        section('Ready endpoints', table(d.endpoints, [{header: 'cluster', get: (e) => e.cluster}, {header: 'service', get: (e) => e.service}, {header: 'ready', get: (e) => `${e.ready}/${e.total}`}])),
        section('Traffic policies (in order of acceptance)', table(d.policies, [{header: '#', get: (p) => p.order}, {header: 'policy', get: (p) => p.id},
          {header: 'state', get: (p) => (p.state === 'ACCEPTED' ? 'ACCEPTED' : `${p.state} (lost)`)}, {header: 'why', get: (p) => p.errors.join('; ')}])),
        section('Access policies', table(d.accessPolicies, [{header: 'policy', get: (p) => p.id}, {header: 'state', get: (p) => p.state}])),
        section('Backs failover services', table(d.failoverServices, [{header: 'failover service', get: (f) => f.id}, {header: 'hostname', get: (f) => f.hostname},
          {header: 'priority', get: (f) => `${f.priority} of ${f.of}`}, {header: 'state', get: (f) => f.state}])),
        generatedSection(d.generated),
      ].join('\n\n')
    case 'failoverservice':
      return [
        fields([['Name', d.id], ['Hostname', d.hostname], ['Port', `${d.port.number}/${d.port.protocol ?? 'http'}`], ['Meshes', d.meshes.join(', ')], ...statusLines(d.status),
          ['Serving now', d.servingNow ? `${d.servingNow} (first backing service with ready endpoints)` : 'nothing: no backing service has ready endpoints']]),
        section('Backing services (in priority order)', table(d.backing, [{header: 'priority', get: (b) => b.priority}, {header: 'service', get: (b) => b.service},
          {header: 'ready', get: (b) => (b.found ? `${b.ready}/${b.total}` : 'not found')},
          {header: 'outlier detection', get: (b) => (b.outlierDetection ? Object.entries(b.outlierDetection).map(([k, v]) => `${k} ${v}`).join(', ') : 'NONE')}])),
        generatedSection(d.generated),
      ].join('\n\n')
    case 'virtualmesh':
      return [
        fields([['Name', d.id], ...statusLines(d.status), ['Root secret', d.root.secret], ['Root fingerprint', d.root.fingerprint], ['Root expires', d.root.notAfter], ['Root error', d.root.error]]),
        section('Meshes', table(d.meshes, [{header: 'mesh', get: (m) => m.mesh}, {header: 'cluster', get: (m) => m.cluster}, {header: 'trust domain', get: (m) => m.trustDomain},
          {header: 'istio', get: (m) => m.istioVersion},
          {header: 'intermediate expires', get: (m) => (!m.intermediate ? '?' : m.intermediate.error ? `unreadable: ${m.intermediate.error}` : !m.intermediate.present ? 'NO cacerts' : `${m.intermediate.notAfter} (${m.intermediate.daysLeft} days)`)},
          {header: 'chains to root', get: (m) => (m.intermediate?.chainsToRoot === undefined ? '?' : m.intermediate.chainsToRoot ? 'yes' : 'NO')},
          {header: 'accepts', get: (m) => Object.entries(m.acceptsTrustDomains ?? {}).map(([td, how]) => `${td} (${how})`).join(', ')}])),
        section('Federation (where each service is visible)', table(d.federation, [{header: 'service', get: (f) => f.service}, {header: 'hostname', get: (f) => f.hostname}, {header: 'visible in', get: (f) => f.visibleIn.join(', ')}])),
        section('Federation cost', estimateTable(d.estimate)),
        generatedSection(d.generated),
      ].join('\n\n')
    case 'cluster':
      return [
        fields([['Name', d.name], ['Server', d.server], ['Registered from context', d.remoteContext],
          ['Token expires', d.tokenExpires ? `${d.tokenExpires} (${d.tokenDaysLeft} days)` : undefined], ['Error', d.error], ['API server', d.apiServerVersion],
          ['Services in a mesh', d.services], ['Generated objects', `${d.generated.count}${d.generated.live !== undefined ? ` (${d.generated.live} in the cluster)` : ''}`]]),
        section('Meshes', table(d.meshes, [{header: 'mesh', get: (m) => m.name}, {header: 'namespace', get: (m) => m.namespace}, {header: 'istio', get: (m) => m.istioVersion},
          {header: 'trust domain', get: (m) => m.trustDomain}, {header: 'gateways', get: (m) => m.gateways.map((g) => `${g.service} ${g.address ? `${g.address}:${g.port}` : '(no address)'}`).join(', ') || 'none'}])),
      ].join('\n\n')
    case 'trafficpolicy':
      return [
        fields([['Name', d.id], ['Acceptance order', d.order], ...statusLines(d.status)]),
        section('Traffic targets', table(d.targets, [{header: 'service', get: (t) => t.service}, {header: 'state', get: (t) => t.state}, {header: 'errors', get: (t) => t.errors.join('; ')}])),
        generatedSection(d.generated),
      ].join('\n\n')
  }
}

export function renderCheck(report: CheckReport, color: ChalkInstance): string {
  const mark = {ok: color.green('✓'), fail: color.red('✗'), warn: color.yellow('!')}
  const out: string[] = []
  for (const group of report.groups) {
    out.push(group.name, '-'.repeat(group.name.length))
    for (const line of group.checks) {
      out.push(`${mark[line.state]} ${line.title}`)
      if (line.detail) out.push(`    ${line.detail}`)
      if (line.fix) out.push(`    fix: ${line.fix}`)
    }
    out.push('')
  }
  out.push(`Status check results are ${report.failed ? color.red('✗') : color.green('✓')}  (${report.passed} passed, ${report.failed} failed, ${report.warnings} warnings)`)
  return out.join('\n')
}

function clientBlock(view: ClientView): string {
  const lines = [`from ${view.cluster} (calls ${view.host}${view.virtualService ? `, VirtualService ${view.virtualService}` : ''}):`]
  for (const route of view.routes) {
    lines.push(`  route ${route.match}:`)
    for (const d of route.destinations) {
      lines.push(`    ${d.weight}% → ${d.type === 'failover' ? `${d.failoverService} (${d.host})` : d.host}: ${d.servedBy ? `served by ${d.servedBy}` : 'NOTHING SERVES (503)'}`)
      for (const t of d.tiers) {
        const subset = t.subset ? ` subset ${labels(t.subset)}` : ''
        const state = t.failed ? 'FAILED (--fail)' : `${t.ready} ready`
        lines.push(`      ${d.type === 'failover' ? `priority ${t.priority}: ` : ''}${t.service}${subset} via ${t.via}, ${state}${t.service === d.servedBy ? '  ← serves' : ''}`)
      }
    }
  }
  return lines.join('\n')
}

export function renderSimulation(s: Simulation): string {
  const out = [`Where requests for ${s.service} go, all healthy:`, '', s.healthy.map(clientBlock).join('\n\n')]
  if (s.failed) out.push('', `With ${s.fail.join(', ')} failed:`, '', s.failed.map(clientBlock).join('\n\n'))
  if (s.warnings.length) out.push('', 'Warnings:', ...s.warnings.map((w) => `  ! ${w}`))
  return out.join('\n')
}
