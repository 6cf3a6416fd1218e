import {Chalk, type ChalkInstance} from 'chalk'

/**
 * chalk 5 ignores NO_COLOR (notes/cli-conventions.md §2), so colour is decided here once:
 * off with --no-color, with NO_COLOR set, or when the stream is not a terminal; FORCE_COLOR turns it on.
 */
export function colorFor(stream: NodeJS.WriteStream, noColorFlag = false): ChalkInstance {
  return new Chalk({level: colorEnabled(stream, noColorFlag) ? 1 : 0})
}

export function colorEnabled(stream: NodeJS.WriteStream, noColorFlag = false): boolean {
  if (noColorFlag || (process.env.NO_COLOR ?? '') !== '') return false
  const force = process.env.FORCE_COLOR
  if (force !== undefined && force !== '0' && force !== 'false') return true
  return Boolean(stream.isTTY)
}
