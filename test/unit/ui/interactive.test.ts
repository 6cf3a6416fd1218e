import {describe, expect, it} from 'vitest'

import {parseDuration} from '../../../src/base-command.js'
import {canPrompt} from '../../../src/ui/interactive.js'

describe('the prompt guard', () => {
  it('never prompts in CI or without a terminal on stdin and stderr', () => {
    const tty = {stdin: process.stdin.isTTY, stderr: process.stderr.isTTY}
    try {
      Object.defineProperty(process.stdin, 'isTTY', {value: true, configurable: true})
      Object.defineProperty(process.stderr, 'isTTY', {value: true, configurable: true})
      expect(canPrompt({})).toBe(true)
      expect(canPrompt({CI: 'true'})).toBe(false)
      expect(canPrompt({CI: 'false'})).toBe(true)
      Object.defineProperty(process.stdin, 'isTTY', {value: false, configurable: true})
      expect(canPrompt({})).toBe(false)
    } finally {
      Object.defineProperty(process.stdin, 'isTTY', {value: tty.stdin, configurable: true})
      Object.defineProperty(process.stderr, 'isTTY', {value: tty.stderr, configurable: true})
    }
  })
})

describe('--request-timeout durations', () => {
  it('reads kubectl-style durations', () => {
    expect(parseDuration('0', 'f')).toBe(0)
    expect(parseDuration('30s', 'f')).toBe(30_000)
    expect(parseDuration('2m', 'f')).toBe(120_000)
    expect(parseDuration('500ms', 'f')).toBe(500)
    expect(parseDuration('5', 'f')).toBe(5000)
    expect(() => parseDuration('soon', '--request-timeout')).toThrow('--request-timeout "soon" is not a duration')
  })
})
