#!/usr/bin/env node
// Writes roff man pages into man/ from the commands' own metadata (oclif.manifest.json, made by `npm run build`):
// man/kubectl-smh.1 and one man/kubectl-smh-<topic>-<verb>.1 per command, and keeps package.json "man" in step.
//   node man/generate.js           write the pages
//   node man/generate.js --check   exit 1 naming every missing or stale page (what the test runs)
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const manDir = dirname(fileURLToPath(import.meta.url))
const root = join(manDir, '..')
const manifestFile = join(root, 'oclif.manifest.json')
if (!existsSync(manifestFile)) {
  console.error('oclif.manifest.json not found: run `npm run build` first')
  process.exit(1)
}
const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const commands = Object.values(manifest.commands).filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))

/** roff-escapes text: backslashes, leading dots and quotes, and dashes. */
function esc(text) {
  return String(text ?? '')
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n')
}

const spaced = (id) => id.replaceAll(':', ' ')
const pageName = (id) => `kubectl-smh-${id.replaceAll(':', '-')}`
const header = (name, summary) => [`.TH ${esc(name.toUpperCase())} 1 "" "kubectl-smh ${pkg.version}" "kubectl smh manual"`, '.SH NAME', `${esc(name)} \\- ${esc(summary)}`]

const exitStatus = [
  '.SH EXIT STATUS', '.TP', '.B 0', 'Success.', '.TP', '.B 1', 'A cluster could not be reached, or an apply failed.',
  '.TP', '.B 2', 'Invalid input or usage; nothing was changed.', '.TP', '.B 130', 'Interrupted.',
]
const environment = [
  '.SH ENVIRONMENT', '.TP', '.B KUBECONFIG', 'Colon-separated kubeconfig files; the first to set a value wins, as in kubectl.',
  '.TP', '.B NO_COLOR', 'When set, no colours.', '.TP', '.B KUBECTL_SMH_BIN_DIR',
  'A folder with prebuilt kube\\-apiserver, etcd, kubectl and istioctl, instead of the ones built by npm run tools.',
]

function flagLines(flags) {
  const lines = []
  for (const flag of Object.values(flags).sort((a, b) => a.name.localeCompare(b.name))) {
    const names = [flag.char ? `\\-${flag.char}` : undefined, `\\-\\-${esc(flag.name)}`].filter(Boolean).join(', ')
    const value = flag.type === 'option' ? ` \\fI${flag.options ? esc(flag.options.join('|')) : 'value'}\\fR` : ''
    lines.push('.TP', `.B ${names}${value}`)
    let text = esc(flag.summary ?? flag.description ?? '')
    if (flag.aliases?.length) text += ` Also \\-\\-${flag.aliases.map(esc).join(', \\-\\-')}.`
    if (flag.default !== undefined && flag.default !== false) text += ` Default: ${esc(flag.default)}.`
    if (flag.multiple) text += ' May be given more than once.'
    lines.push(text)
  }
  return lines
}

function commandPage(cmd) {
  const args = Object.values(cmd.args ?? {}).map((a) => (a.required ? esc(a.name.toUpperCase()) : `[${esc(a.name.toUpperCase())}]`))
  const lines = [
    ...header(pageName(cmd.id), cmd.summary ?? ''),
    '.SH SYNOPSIS', `.B kubectl smh ${esc(spaced(cmd.id))}`, `${args.join(' ')} [\\fIflags\\fR]`.trim(),
    '.SH DESCRIPTION', esc(cmd.description ?? cmd.summary ?? ''),
  ]
  const own = Object.fromEntries(Object.entries(cmd.flags ?? {}).filter(([, f]) => f.helpGroup !== 'GLOBAL'))
  const global = Object.fromEntries(Object.entries(cmd.flags ?? {}).filter(([, f]) => f.helpGroup === 'GLOBAL'))
  if (Object.keys(own).length) lines.push('.SH OPTIONS', ...flagLines(own))
  if (Object.keys(global).length) lines.push('.SH GLOBAL OPTIONS', ...flagLines(global))
  if (cmd.examples?.length) {
    lines.push('.SH EXAMPLES', '.nf')
    for (const ex of cmd.examples) lines.push(esc(typeof ex === 'string' ? ex : ex.command))
    lines.push('.fi')
  }
  lines.push(...exitStatus, ...environment, '.SH SEE ALSO', '\\fBkubectl\\-smh\\fR(1), \\fBkubectl\\fR(1)')
  return `${lines.join('\n')}\n`
}

function mainPage() {
  const lines = [
    ...header('kubectl-smh', pkg.description),
    '.SH SYNOPSIS', '.B kubectl smh', '\\fIcommand\\fR [\\fIflags\\fR]',
    '.SH DESCRIPTION',
    esc('kubectl smh makes several Kubernetes clusters running Istio behave as one mesh, the way Service Mesh Hub did, but in the client: each command talks straight to each cluster\'s API server, translates, and applies. No controller runs anywhere.'),
    '.SH COMMANDS',
  ]
  for (const cmd of commands) lines.push('.TP', `.B kubectl smh ${esc(spaced(cmd.id))}`, `${esc(cmd.summary ?? '')} See \\fB${esc(pageName(cmd.id))}\\fR(1).`)
  lines.push(...exitStatus, ...environment, '.SH SEE ALSO', `${commands.map((c) => `\\fB${esc(pageName(c.id))}\\fR(1)`).join(', ')}, \\fBkubectl\\fR(1)`)
  return `${lines.join('\n')}\n`
}

const pages = new Map([['kubectl-smh.1', mainPage()], ...commands.map((c) => [`${pageName(c.id)}.1`, commandPage(c)])])
const manField = [...pages.keys()].map((f) => `./man/${f}`)

if (process.argv.includes('--check')) {
  const problems = []
  for (const [file, text] of pages) {
    const path = join(manDir, file)
    if (!existsSync(path)) problems.push(`man/${file} is missing`)
    else if (readFileSync(path, 'utf8') !== text) problems.push(`man/${file} is stale`)
  }
  const extra = existsSync(manDir) ? readdirSync(manDir).filter((f) => !pages.has(f) && f !== 'generate.js') : []
  for (const f of extra) problems.push(`man/${f} belongs to no command`)
  if (JSON.stringify(pkg.man) !== JSON.stringify(manField)) problems.push('package.json "man" does not list exactly the pages')
  if (problems.length) {
    console.error(`${problems.join('\n')}\nrun: npm run build && npm run man`)
    process.exit(1)
  }
  console.log(`${pages.size} man pages up to date`)
} else {
  mkdirSync(manDir, {recursive: true})
  for (const file of readdirSync(manDir)) if (file.endsWith('.1') && !pages.has(file)) rmSync(join(manDir, file))
  for (const [file, text] of pages) writeFileSync(join(manDir, file), text)
  const pkgText = readFileSync(join(root, 'package.json'), 'utf8')
  const updated = JSON.stringify({...JSON.parse(pkgText), man: manField}, null, 2) + '\n'
  if (updated !== pkgText) writeFileSync(join(root, 'package.json'), updated)
  console.log(`wrote ${pages.size} man pages to man/`)
}
