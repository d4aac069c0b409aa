import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { admissionCompleted } from "./handlers/admission-completed.ts";
import { admissionExpired } from "./handlers/admission-expired.ts";
import { consumerAdmitted } from "./handlers/consumer-admitted.ts";
import { consumerEntered } from "./handlers/consumer-entered.ts";
import { consumerLeft } from "./handlers/consumer-left.ts";

export const queueHandlers: HandlerMap<"queue"> = {
  "queue.consumer_entered": consumerEntered,
  "queue.consumer_admitted": consumerAdmitted,
  "queue.consumer_left": consumerLeft,
  "queue.admission_completed": admissionCompleted,
  "queue.admission_expired": admissionExpired,
};
