import type { z } from "zod";
import type { Envelope } from "./envelope.ts";
import { familyQueueNames, type Family } from "./families.ts";
import { toSchemaIssues, type SchemaIssue } from "./issues.ts";
import * as auction from "./schemas/auction-events.ts";
import * as consumer from "./schemas/consumer-events.ts";
import * as draw from "./schemas/draw-events.ts";
import * as experience from "./schemas/experience-events.ts";
import * as queue from "./schemas/queue-events.ts";

function entry<const F extends Family, S extends z.ZodType>(family: F, schema: S) {
  return { family, queueName: familyQueueNames[family], schema };
}

/** The one place that says, for every documented event type, its family, queue and data schema. */
export const eventCatalogue = {
  "queue.consumer_entered": entry("queue", queue.consumerEnteredData),
  "queue.consumer_admitted": entry("queue", queue.consumerAdmittedData),
  "queue.consumer_left": entry("queue", queue.consumerLeftData),
  "queue.admission_completed": entry("queue", queue.admissionCompletedData),
  "queue.admission_expired": entry("queue", queue.admissionExpiredData),
  "draw.entry_created": entry("draw", draw.entryCreatedData),
  "draw.winners_selected": entry("draw", draw.winnersSelectedData),
  "draw.prize_claimed": entry("draw", draw.prizeClaimedData),
  "draw.prize_expired": entry("draw", draw.prizeExpiredData),
  "auction.bid_placed": entry("auction", auction.bidPlacedData),
  "auction.outbid": entry("auction", auction.outbidData),
  "auction.auction_ended": entry("auction", auction.auctionEndedData),
  "auction.winner_notified": entry("auction", auction.winnerNotifiedData),
  "experience.started": entry("experience", experience.experienceStartedData),
  "experience.ended": entry("experience", experience.experienceEndedData),
  "experience.paused": entry("experience", experience.experiencePausedData),
  "experience.resumed": entry("experience", experience.experienceResumedData),
  "consumer.authenticated": entry("consumer", consumer.consumerAuthenticatedData),
  "consumer.linked": entry("consumer", consumer.consumerLinkedData),
} as const;

type Catalogue = typeof eventCatalogue;
export type EventType = keyof Catalogue;
export type EventData<T extends EventType> = z.infer<Catalogue[T]["schema"]>;
export type FamilyOf<T extends EventType> = Catalogue[T]["family"];

/** The event types of one family, e.g. `FamilyEventType<"draw">`. */
export type FamilyEventType<F extends Family> = {
  [T in EventType]: FamilyOf<T> extends F ? T : never;
}[EventType];

/** The envelope's documented fields; `Envelope` itself is loose (index signature) and Omit on it loses them. */
type EnvelopeHead = Pick<Envelope, "id" | "created" | "organizationId" | "experienceId">;

/** An envelope whose `data` has been parsed against its type's schema. */
export type TypedEvent<T extends EventType = EventType> = {
  [K in T]: EnvelopeHead & { type: K; data: EventData<K> };
}[T];

export const eventTypes = Object.keys(eventCatalogue) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventCatalogue, type);
}

export function eventTypesOf<F extends Family>(family: F): FamilyEventType<F>[] {
  return eventTypes.filter(
    (type) => eventCatalogue[type].family === family,
  ) as FamilyEventType<F>[];
}

export type DataParseResult<T extends EventType> =
  { success: true; event: TypedEvent<T> } | { success: false; issues: SchemaIssue[] };

/** Validates an envelope's `data` against the schema of its (known) type. */
export function parseEventData<T extends EventType>(
  envelope: Envelope & { type: T },
): DataParseResult<T> {
  const result = eventCatalogue[envelope.type].schema.safeParse(envelope.data);
  if (!result.success) {
    return { success: false, issues: toSchemaIssues(result.error, ["data"]) };
  }
  // zod cannot narrow the schema union by T; the catalogue guarantees the pairing.
  return { success: true, event: { ...envelope, data: result.data } as unknown as TypedEvent<T> };
}
