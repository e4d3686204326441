// Query strings the way Composio's generated clients write them: arrays comma-joined
// (`statuses=ACTIVE,EXPIRED`), maps with brackets (`toolkit_versions[gmail]=20250909_00`).

export type QueryValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>> | undefined;

/** `?a=1&b=x,y`, or '' when nothing is set; undefined values and empty arrays are left out. */
export function buildQueryString(params: Readonly<Record<string, QueryValue>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (isStringArray(value)) {
      if (value.length > 0) search.append(name, value.join(','));
    } else if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) search.append(`${name}[${key}]`, item);
    } else {
      search.append(name, String(value));
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}
