/**
 * Istio's own validator over every object of every golden case: `istioctl validate -f` (built by
 * test/env/build-tools.sh, which `npm test` runs first; KUBECTL_SMH_BIN_DIR overrides its folder). A missing istioctl
 * fails the suite: a check that silently does not run proves nothing.
 */
import {execFile} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {describe, expect, it} from 'vitest'

import {binaryPath} from '../../../src/controlplane/binaries.js'
import {goldenCases} from '../../support/golden.js'

const istioctl = binaryPath('istioctl')
const run = promisify(execFile)

describe(`istioctl validate accepts every generated object (${istioctl})`, () => {
  it('has istioctl to run', () => {
    expect(existsSync(istioctl), `${istioctl} is missing: build it with \`npm run tools\``).toBe(true)
  })
  for (const c of goldenCases()) {
    it(c.name, async () => {
      const streams = Object.keys(c.snapshots).map((cluster) => join(c.dir, 'expected', `${cluster}.yaml`)).filter(existsSync)
      const text = streams.map((f) => readFileSync(f, 'utf8')).filter((t) => t.trim() !== '').join('---\n')
      if (text === '') return
      const file = join(mkdtempSync(join(tmpdir(), 'smh-istioctl-')), `${c.name}.yaml`)
      writeFileSync(file, text)
      const result = await run(istioctl, ['validate', '-f', file], {timeout: 60_000}).then(
        (r) => ({code: 0, out: r.stdout + r.stderr}),
        (e: {code?: number; stdout?: string; stderr?: string}) => ({code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}`}),
      )
      // Istio warns about every EnvoyFilter (an unstable API): expected for the aggregate-cluster strategy, nothing else is.
      const findings = result.out.split('\n').filter((line) => /^\s+\*/.test(line) && !line.includes('EnvoyFilter exposes internal implementation details'))
      expect(findings, result.out).toEqual([])
      expect(result.out).not.toMatch(/^Error/m)
      expect(result.out).toMatch(/is valid|has warnings/)
      expect(result.code, result.out).toBe(0)
    }, 60_000)
  }
})
