// JSON input is read as JSON (issue 11: a fleet's snapshots are tens of MB, and the YAML parser took most of the
// time): the same objects as through the YAML parser, and the same file:line in every message, worked out only
// when a message needs one.
import {describe, expect, it} from 'vitest'

import {checkResources, formatNote, formatProblem, parseDocuments} from '../../../src/api/parse.js'

const TP = (name: string, spec: unknown) => ({apiVersion: 'networking.smh.solo.io/v1alpha2', kind: 'TrafficPolicy', metadata: {name}, spec})
const messages = (text: string, file: string) => {
  const parsed = parseDocuments(text, file)
  const checked = checkResources(parsed.objects)
  return {objects: parsed.objects.map((o) => o.object), problems: [...parsed.problems, ...checked.problems].map(formatProblem), notes: checked.notes.map(formatNote)}
}
/** The same text through the YAML path (a leading comment keeps it off the JSON path; JSON is YAML). */
const asYaml = (text: string, file: string) => messages(`# yaml\n${text}`, file)
const shiftLines = (lines: string[]) => lines.map((l) => l.replace(/\.json:(\d+)/g, (_, n) => `.json:${Number(n) - 1}`))

describe('JSON input', () => {
  const list = JSON.stringify({apiVersion: 'v1', kind: 'List', items: [
    TP('ok', {requestTimeout: '2s'}),
    TP('bad', {requestTimeout: 'two seconds', retries: {attempts: -1}}),
    TP('snake', {destination_selector: [{kubeServiceMatcher: {labels: {app: 'x'}}}]}),
    TP('ok', {}),
  ]}, null, 2)

  it('gives the objects, problems and notes the YAML parser gives, with the same lines', () => {
    const json = messages(list, 'in.json')
    const yaml = asYaml(list, 'in.json')
    expect(json.objects).toEqual(yaml.objects)
    expect(json.problems).toEqual(shiftLines(yaml.problems))
    expect(json.notes).toEqual(shiftLines(yaml.notes))
    expect(json.problems.join('\n')).toMatch(/in\.json:\d+: TrafficPolicy\/service-mesh-hub\/bad: spec\.requestTimeout: /)
    expect(json.problems.join('\n')).toMatch(/in\.json:\d+: TrafficPolicy\/service-mesh-hub\/ok: defined twice \(first at in\.json:\d+\)/)
  })

  it('lines are not worked out when nothing needs them', () => {
    const text = JSON.stringify(TP('ok', {requestTimeout: '2s'}))
    const parsed = parseDocuments(text, 'in.json')
    expect(checkResources(parsed.objects).problems).toEqual([])
    const {origin} = parsed.objects[0]
    expect(Object.getOwnPropertyDescriptor(origin, 'line')?.get).toBeTypeOf('function') // lazy
    expect(origin.line).toBe(1)
  })

  it('a JSON syntax error goes through the YAML parser, which names the line; a top-level array is one problem', () => {
    expect(messages('{"kind": "TrafficPolicy",\n "metadata": {"name": "x"\n', 'bad.json').problems[0]).toMatch(/^bad\.json:\d+: YAML syntax error/)
    expect(messages('[1, 2]', 'a.json').problems).toEqual(['a.json:1: expected a Kubernetes object (apiVersion, kind, metadata), got a list'])
    expect(messages('{"kind": "List", "items": [3]}', 'l.json').problems).toEqual(['l.json:1: items[0]: expected a Kubernetes object'])
  })
})

describe('YAML input', () => {
  it('keeps no syntax tree: lines are worked out (by a second parse) only when asked, and are those of the text', () => {
    const text = '# two documents\napiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: a}\nspec: {}\n---\napiVersion: networking.smh.solo.io/v1alpha2\nkind: TrafficPolicy\nmetadata: {name: b}\nspec:\n  requestTimeout: soon\n'
    const parsed = parseDocuments(text, 'in.yaml')
    expect(Object.getOwnPropertyDescriptor(parsed.objects[1].origin, 'line')?.get).toBeTypeOf('function')
    expect(parsed.objects.map((o) => o.origin.line)).toEqual([2, 7])
    expect(checkResources(parsed.objects).problems.map(formatProblem)).toEqual(['in.yaml:11: TrafficPolicy/service-mesh-hub/b: spec.requestTimeout: expected a duration such as 10s, 500ms or 2m, got string "soon"'])
  })

  it('a syntax error in one document names its line; the other documents still count', () => {
    const parsed = parseDocuments('kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: [b\n---\nkind: C\nmetadata: {name: c}\n', 'in.yaml')
    expect(parsed.problems.map(formatProblem)[0]).toMatch(/^in\.yaml:[56]: YAML syntax error/)
    expect(parsed.objects.map((o) => o.object.kind)).toEqual(['A', 'C'])
    expect(parsed.objects[1].origin.line).toBe(7)
  })
})
