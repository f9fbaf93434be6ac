// Lists kept by key in a Map, the grouping the scheduler does for runs, workers and dependencies.
// (Map.groupBy arrives only in Node 21.)

/** Adds `value` to the list kept under `key`, starting the list if there is none. */
export function addToList<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}
