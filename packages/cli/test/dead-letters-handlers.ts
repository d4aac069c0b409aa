import type { EventHandler, HandlerMap } from "@fanfare-relay/worker/handler";

/** Which events fail, decided per event id, so one worker serves every test in the file. */
export interface Switchboard {
  failing: Set<string>;
  /** Times each event's handler ran to the end. */
  runs: Map<string, number>;
}

export const LONG_ERROR =
  "inventory service unavailable: answered 503 Service Unavailable after 30 s, three times in a row";

export function switchedHandlers(board: Switchboard): HandlerMap<"experience"> {
  const handler: EventHandler<
    "experience.started" | "experience.ended" | "experience.paused" | "experience.resumed"
  > = ({ event }) => {
    if (board.failing.has(event.id)) return Promise.reject(new Error(LONG_ERROR));
    board.runs.set(event.id, (board.runs.get(event.id) ?? 0) + 1);
    return Promise.resolve();
  };
  return {
    "experience.started": handler,
    "experience.ended": handler,
    "experience.paused": handler,
    "experience.resumed": handler,
  };
}
