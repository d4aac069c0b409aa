/** The five event families; each has its own queue and its own worker app. */
export const families = ["queue", "draw", "auction", "experience", "consumer"] as const;
export type Family = (typeof families)[number];

/** Queue names are part of the operator-facing contract: they appear in Bull Board and Redis keys. */
export const familyQueueNames = {
  queue: "fanfare-queue",
  draw: "fanfare-draw",
  auction: "fanfare-auction",
  experience: "fanfare-experience",
  consumer: "fanfare-consumer",
} as const satisfies Record<Family, string>;

/** Signed events whose type we do not know are kept here so that nothing is lost. */
export const unroutedQueueName = "fanfare-unrouted";

export type QueueName = (typeof familyQueueNames)[Family] | typeof unroutedQueueName;

export const allQueueNames: readonly QueueName[] = [
  ...families.map((family) => familyQueueNames[family]),
  unroutedQueueName,
];

/** The family whose queue this is; the name itself for a queue of no family (fanfare-unrouted). */
export function familyOfQueue(queueName: string): string {
  return families.find((family) => familyQueueNames[family] === queueName) ?? queueName;
}
