/** One difference between two JSON values; a missing side means the field is absent there. */
export interface JsonChange {
  /** Dotted path from the root, array indexes as numbers (`data.items.0.sku`); "" for the root. */
  path: string;
  before?: unknown;
  after?: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const join = (path: string, key: string | number) =>
  path === "" ? String(key) : `${path}.${String(key)}`;

/**
 * The leaf-level differences between two JSON values (objects and arrays are walked, anything
 * else compared with Object.is), in the order of `before`'s keys then `after`'s new ones. Used for
 * the audit of an operator's edit of a job's data: what changed, not the whole payload.
 */
export function jsonDiff(before: unknown, after: unknown, path = ""): JsonChange[] {
  if (isRecord(before) && isRecord(after)) {
    const changes: JsonChange[] = [];
    for (const key of Object.keys(before)) {
      changes.push(
        ...(Object.hasOwn(after, key)
          ? jsonDiff(before[key], after[key], join(path, key))
          : [{ path: join(path, key), before: before[key] }]),
      );
    }
    for (const key of Object.keys(after)) {
      if (!Object.hasOwn(before, key)) changes.push({ path: join(path, key), after: after[key] });
    }
    return changes;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: JsonChange[] = [];
    for (let index = 0; index < Math.max(before.length, after.length); index += 1) {
      if (index >= after.length) changes.push({ path: join(path, index), before: before[index] });
      else if (index >= before.length)
        changes.push({ path: join(path, index), after: after[index] });
      else changes.push(...jsonDiff(before[index], after[index], join(path, index)));
    }
    return changes;
  }
  return Object.is(before, after) ? [] : [{ path, before, after }];
}
