import {readFile, readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {type InputNote, type InputProblem, type LoadedResource, type ParsedObject, checkResources, parseDocuments} from './parse.js'

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json']

export interface LoadOptions {
  /** Reads stdin for `-`; injectable for tests. */
  readStdin?: () => Promise<string>
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads files, directories (their .yaml/.yml/.json files, sorted, not recursive, like kubectl -f) and `-` for stdin. */
export async function readInputs(paths: string[], options: LoadOptions = {}): Promise<{objects: ParsedObject[]; problems: InputProblem[]}> {
  const objects: ParsedObject[] = []
  const problems: InputProblem[] = []
  const add = (text: string, file: string): void => {
    const parsed = parseDocuments(text, file)
    objects.push(...parsed.objects)
    problems.push(...parsed.problems)
  }
  for (const path of paths) {
    if (path === '-') {
      add(await (options.readStdin ?? readAllStdin)(), '<stdin>')
      continue
    }
    let info
    try {
      info = await stat(path)
    } catch {
      problems.push({file: path, message: 'no such file or directory'})
      continue
    }
    if (info.isDirectory()) {
      const entries = (await readdir(path)).filter((name) => MANIFEST_EXTENSIONS.some((ext) => name.endsWith(ext))).sort()
      if (entries.length === 0) problems.push({file: path, message: 'directory has no .yaml, .yml or .json files'})
      for (const entry of entries) add(await readFile(join(path, entry), 'utf8'), join(path, entry))
    } else {
      add(await readFile(path, 'utf8'), path)
    }
  }
  return {objects, problems}
}

/**
 * SMH resources from `-f` paths, with every syntax and schema problem collected, and notes on what was normalised
 * (proto field names): a command prints them with `formatNote`, as `note: ...` lines on stderr.
 */
export async function loadResources(paths: string[], options: LoadOptions = {}): Promise<{resources: LoadedResource[]; problems: InputProblem[]; notes: InputNote[]}> {
  const read = await readInputs(paths, options)
  const checked = checkResources(read.objects)
  return {resources: checked.resources, problems: [...read.problems, ...checked.problems], notes: checked.notes}
}

/** The objects of one cluster from a `kubectl get ... -A -o yaml` file. */
export async function loadSnapshot(path: string, options: LoadOptions = {}): Promise<{objects: Record<string, unknown>[]; problems: InputProblem[]}> {
  const read = await readInputs([path], options)
  const problems = [...read.problems]
  const objects: Record<string, unknown>[] = []
  for (const {object, origin} of read.objects) {
    if (typeof object.kind !== 'string' || typeof (object.metadata as {name?: unknown} | undefined)?.name !== 'string') {
      problems.push({file: origin.file, line: origin.line, message: 'snapshot object has no kind or metadata.name (expected the output of kubectl get ... -A -o yaml)'})
      continue
    }
    objects.push(object)
  }
  return {objects, problems}
}
