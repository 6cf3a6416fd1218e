#!/usr/bin/env node
/**
 * Builds the krew archives of kubectl smh and the manifest that names them (plugins/smh.yaml with uri and sha256
 * filled in). Krew users have no Node, so each archive carries one:
 *
 *   kubectl-smh              launcher (sh): runs lib/node_modules/kubectl-smh/bin/run.js with the bundled node
 *   kubectl_complete-smh     the same for kubectl's plugin completion
 *   node                     the Node.js runtime of the platform (this machine's own for the host platform,
 *                            else node-vVERSION-OS-ARCH from nodejs.org/dist)
 *   lib/node_modules/...     the npm package (npm pack) installed with its production dependencies (all JavaScript,
 *                            so the same for every platform)
 *
 * Usage: node plugins/build-krew.mjs [--out DIR] [--platforms linux-amd64,darwin-arm64,...] [--base-uri URL]
 * (default: the host platform only, into ./krew-out). Needs `npm run build` first.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const ARCH = {x64: 'amd64', arm64: 'arm64'}
const host = `${process.platform}-${ARCH[process.arch] ?? process.arch}`
const out = resolve(flag('out', join(root, 'krew-out')))
const platforms = flag('platforms', host).split(',')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const version = `v${pkg.version}`
const baseUri = flag('base-uri', `https://example.invalid/kubectl-smh/${version}`)
const nodeVersion = process.version.slice(1)

const work = mkdtempSync(join(tmpdir(), 'smh-krew-'))
mkdirSync(out, {recursive: true})
const run = (cmd, argv, cwd = work) => execFileSync(cmd, argv, {cwd, stdio: ['ignore', 'ignore', 'inherit']})

// The npm package with its production dependencies, as `npm i -g` lays it out.
run('npm', ['pack', '--pack-destination', work], root)
const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
const installed = join(work, 'install')
run('npm', ['i', '-g', '--prefix', installed, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)])

const launcher = (entry) => `#!/bin/sh
# kubectl smh with its own Node.js runtime (krew archive).
here="$(cd "$(dirname "$(readlink -f "$0" 2>/dev/null || echo "$0")")" && pwd)"
exec "$here/node" "$here/lib/node_modules/kubectl-smh/bin/${entry}" "$@"
`

function nodeBinary(platform) {
  if (platform === host) return process.execPath
  const [os, arch] = platform.split('-')
  const name = `node-v${nodeVersion}-${os}-${arch === 'amd64' ? 'x64' : arch}`
  const archive = join(work, `${name}.tar.gz`)
  run('curl', ['-fsSL', '-o', archive, `https://nodejs.org/dist/v${nodeVersion}/${name}.tar.gz`])
  run('tar', ['-xzf', archive, '-C', work])
  return join(work, name, 'bin', 'node')
}

let manifest = readFileSync(join(root, 'plugins', 'smh.yaml'), 'utf8').replaceAll('https://example.invalid/kubectl-smh/v0.1.0', baseUri).replaceAll('v0.1.0', version)
for (const platform of platforms) {
  const [os, arch] = platform.split('-')
  const stage = join(work, `stage-${platform}`)
  mkdirSync(join(stage, 'lib'), {recursive: true})
  cpSync(join(installed, 'lib', 'node_modules'), join(stage, 'lib', 'node_modules'), {recursive: true, dereference: true})
  copyFileSync(nodeBinary(platform), join(stage, 'node'))
  chmodSync(join(stage, 'node'), 0o755)
  writeFileSync(join(stage, 'kubectl-smh'), launcher('run.js'), {mode: 0o755})
  writeFileSync(join(stage, 'kubectl_complete-smh'), launcher('complete.js'), {mode: 0o755})
  if (existsSync(join(root, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'))
  const archive = join(out, `kubectl-smh-${os}-${arch}.tar.gz`)
  run('tar', ['-czf', archive, '-C', stage, '.'])
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex')
  manifest = manifest.replace(`SHA256_${os}_${arch}`, sha256)
  process.stderr.write(`${archive}  sha256 ${sha256}\n`)
}
// Platforms not built are left out: krew refuses a manifest with placeholder checksums.
const blocks = manifest.split(/\n(?=  - selector:)/)
manifest = blocks.filter((b) => !/sha256: SHA256_/.test(b)).join('\n')
writeFileSync(join(out, 'smh.yaml'), manifest.endsWith('\n') ? manifest : `${manifest}\n`)
process.stderr.write(`${join(out, 'smh.yaml')}\n`)
rmSync(work, {recursive: true, force: true})
