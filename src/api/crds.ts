import {KIND_SCHEMAS, type Schema, objectSchema} from './schema.js'

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1'
  kind: 'CustomResourceDefinition'
  metadata: {name: string; labels: Record<string, string>}
  spec: {
    group: string
    names: {kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[]}
    scope: 'Namespaced'
    versions: {
      name: string
      served: true
      storage: true
      schema: {openAPIV3Schema: Schema}
      subresources: {status: Record<string, never>}
      additionalPrinterColumns: {name: string; type: string; jsonPath: string}[]
    }[]
  }
}

/** Our validator-only keys have no place in a CRD (the API server rejects unknown schema fields). */
function structural(schema: Schema): Schema {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-smh-')) continue
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, structural(v)]))
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = structural(value as Schema)
    } else out[key] = value
  }
  return out as Schema
}

/** The CRDs `kubectl smh install` applies: one per SMH kind, OpenAPI v3 schema from schema.ts, status subresource. */
export function crdManifests(): CustomResourceDefinition[] {
  return KIND_SCHEMAS.map((kind) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {name: `${kind.plural}.${kind.group}`, labels: {'app.kubernetes.io/managed-by': 'kubectl-smh'}},
    spec: {
      group: kind.group,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        shortNames: kind.shortNames,
        categories: ['smh'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: kind.version,
          served: true,
          storage: true,
          schema: {openAPIV3Schema: structural(objectSchema(kind))},
          subresources: {status: {}},
          additionalPrinterColumns: [
            {name: 'State', type: 'string', jsonPath: '.status.state'},
            {name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp'},
          ],
        },
      ],
    },
  }))
}
