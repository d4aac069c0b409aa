import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { consumerAuthenticated } from "./handlers/consumer-authenticated.ts";
import { consumerLinked } from "./handlers/consumer-linked.ts";

export const consumerHandlers: HandlerMap<"consumer"> = {
  "consumer.authenticated": consumerAuthenticated,
  "consumer.linked": consumerLinked,
};
