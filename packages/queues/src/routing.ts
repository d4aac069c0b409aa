import { eventCatalogue, isEventType } from "@fanfare-relay/events/catalogue";
import { unroutedQueueName, type QueueName } from "@fanfare-relay/events/families";

export interface Route {
  queueName: QueueName;
  /** False for a type the catalogue does not know: it goes to `fanfare-unrouted`. */
  known: boolean;
}

export function routeEventType(type: string): Route {
  return isEventType(type)
    ? { queueName: eventCatalogue[type].queueName, known: true }
    : { queueName: unroutedQueueName, known: false };
}
