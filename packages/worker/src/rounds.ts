/**
 * Splits items into rounds in which no key appears twice, each key's items keeping their order
 * (its first item in the first round, its second in the second …). A multi-row upsert runs once
 * per round: `ON CONFLICT DO UPDATE` cannot touch one row twice in one statement, and round after
 * round it merges a key's items in the order one-at-a-time application would. Usually one round.
 */
export function inRounds<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const rounds: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(item);
  }
  return rounds;
}
