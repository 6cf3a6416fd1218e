import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {goldenCases, renderExpected, runCase} from '../../support/golden.js'

// UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/translate/golden.test.ts rewrites the expected files.
const update = process.env.UPDATE_GOLDEN === '1'

describe('golden translation cases (test/golden/<case>: case.yaml + inputs → expected/)', () => {
  const cases = goldenCases()
  it('has the seed scenario and one case per rule', () => {
    expect(cases.map((c) => c.name)).toContain('seed-failover')
    expect(cases.length).toBeGreaterThanOrEqual(8)
  })
  for (const c of cases) {
    it(`${c.name}: ${c.description.split('.')[0]}`, async () => {
      const files = renderExpected(await runCase(c))
      const expectedDir = join(c.dir, 'expected')
      if (update) {
        rmSync(expectedDir, {recursive: true, force: true})
        mkdirSync(expectedDir, {recursive: true})
        for (const [name, text] of Object.entries(files)) writeFileSync(join(expectedDir, name), text)
      }
      expect(existsSync(expectedDir), `${expectedDir} missing: run with UPDATE_GOLDEN=1`).toBe(true)
      expect(readdirSync(expectedDir).sort()).toEqual(Object.keys(files).sort())
      for (const [name, text] of Object.entries(files)) expect(text, `${c.name}/expected/${name}`).toBe(readFileSync(join(expectedDir, name), 'utf8'))
    })
  }
})
