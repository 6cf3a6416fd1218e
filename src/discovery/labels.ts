/** Kubernetes label selection: `matchLabels` and `matchExpressions` (LabelSelector) or a plain map (Service). */
export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: {key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[]}[]
}

export function mapMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true
  for (const [key, value] of Object.entries(selector)) if (labels?.[key] !== value) return false
  return true
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false
  if (!mapMatches(selector.matchLabels, labels)) return false
  for (const expression of selector.matchExpressions ?? []) {
    const value = labels?.[expression.key]
    switch (expression.operator) {
      case 'In':
        if (value === undefined || !(expression.values ?? []).includes(value)) return false
        break
      case 'NotIn':
        if (value !== undefined && (expression.values ?? []).includes(value)) return false
        break
      case 'Exists':
        if (value === undefined) return false
        break
      case 'DoesNotExist':
        if (value !== undefined) return false
        break
      default:
        return false
    }
  }
  return true
}
