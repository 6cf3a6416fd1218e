/**
 * The non-interactive command a wizard's answers amount to, as one line a person can paste into a POSIX shell
 * (sh, bash, zsh): what each wizard prints at its end ("Next time: kubectl smh add failoverservice ...").
 */

/** A flag's value as the wizards and verbs hold it: repeated flags are arrays; booleans are present or not. */
export type FlagValue = string | number | boolean | readonly (string | number)[] | undefined | null

/** Characters a POSIX shell takes literally outside quotes (nothing to expand, split or glob). */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

/** One word for a POSIX shell: bare when safe, else single-quoted with each `'` written as `'\''`. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE.test(word)) return word
  return `'${word.replaceAll("'", `'\\''`)}'`
}

/** `hostName` → `--host-name`; `noOutlier` → `--no-outlier`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/**
 * `kubectl smh VERB ARGS... --flag value...`: positional arguments first, then the flags in the order of the object
 * (arrays as the flag repeated, in order, since order can mean priority; `true` as the bare flag; false, undefined,
 * null and empty arrays left out). A value that starts with `-` is written `--flag=value` so it cannot pass for a flag.
 */
export function equivalentCommand(verb: string, args: readonly string[], flags: Readonly<Record<string, FlagValue>>): string {
  const words = ['kubectl', 'smh', ...verb.split(' ').filter(Boolean), ...args]
  const rendered = words.map(shellQuote)
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined || value === null || value === false) continue
    const flag = flagName(key)
    if (value === true) {
      rendered.push(flag)
      continue
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      const text = String(item)
      rendered.push(text.startsWith('-') ? shellQuote(`${flag}=${text}`) : `${flag} ${shellQuote(text)}`)
    }
  }
  return rendered.join(' ')
}
