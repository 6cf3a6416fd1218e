/**
 * Errors a user sees. Each carries the exit code DESIGN.md §6 gives it; the base command prints the message as
 * one line on stderr. Anything that is not an SmhError is a bug and exits 1 (with the stack under --verbose).
 */
export const ExitCode = {
  ok: 0,
  failed: 1, // a cluster or an apply failed
  usage: 2, // invalid input or usage
  interrupted: 130,
} as const

export class SmhError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
    /** Further lines (one per problem) when several things are wrong at once. */
    readonly details: string[] = [],
  ) {
    super(message)
    this.name = 'SmhError'
  }
}

/** Bad input or usage: exit 2, nothing changed anywhere. */
export class UsageError extends SmhError {
  constructor(message: string, details: string[] = []) {
    super(message, ExitCode.usage, details)
    this.name = 'UsageError'
  }
}
