/**
 * Whether a wizard may prompt: a person at a terminal on both ends (stdin to read, stderr to draw on) and not CI.
 * inquirer would happily draw on a pipe and then fail (notes/cli-conventions.md §4), so callers check first.
 */
export function canPrompt(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0'
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY) && !ci
}
