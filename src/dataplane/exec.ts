import {execFileSync} from 'node:child_process'

import {SmhError} from '../errors.js'

/** Runs a command (no shell) and returns its stdout; a failure is one line naming the command and its stderr. */
export function run(command: string, args: string[], options: {input?: string; allowFail?: boolean} = {}): string {
  try {
    return execFileSync(command, args, {encoding: 'utf8', input: options.input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024})
  } catch (error) {
    if (options.allowFail) return ''
    const e = error as {stderr?: string; message: string}
    const why = (e.stderr ?? '').trim().split('\n').filter(Boolean).slice(-2).join('; ') || e.message
    throw new SmhError(`${command} ${args.join(' ')}: ${why}`)
  }
}

/** `ip -batch -` in one call: many changes, one process. */
export function ipBatch(lines: string[], namespace?: string): void {
  if (lines.length === 0) return
  run('ip', [...(namespace ? ['-n', namespace] : []), '-batch', '-'], {input: lines.join('\n') + '\n'})
}

/** Where a command is on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      execFileSync('test', ['-x', `${dir}/${command}`])
      return `${dir}/${command}`
    } catch {}
  }
  return undefined
}
