import {execFileSync, spawnSync} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {describe, expect, it} from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('man pages', () => {
  it('exist for the plugin and for every command, and match the commands as built', () => {
    const check = spawnSync(process.execPath, ['man/generate.js', '--check'], {cwd: root, encoding: 'utf8'})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
    const manifest = JSON.parse(readFileSync(`${root}/oclif.manifest.json`, 'utf8'))
    const pages = readdirSync(`${root}/man`).filter((f) => f.endsWith('.1'))
    for (const id of Object.keys(manifest.commands).filter((id) => !manifest.commands[id].hidden)) expect(pages).toContain(`kubectl-smh-${id.replaceAll(':', '-')}.1`)
    expect(pages).toContain('kubectl-smh.1')
  })

  it('render without roff warnings', () => {
    const hasGroff = spawnSync('groff', ['--version']).status === 0
    if (!hasGroff) return
    for (const page of readdirSync(`${root}/man`).filter((f) => f.endsWith('.1'))) {
      const warnings = execFileSync('sh', ['-c', `groff -man -ww -Tutf8 "man/${page}" 2>&1 >/dev/null`], {cwd: root, encoding: 'utf8'})
      expect(warnings, page).toBe('')
    }
  })
})
