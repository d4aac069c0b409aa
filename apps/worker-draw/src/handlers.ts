import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { entryCreated } from "./handlers/entry-created.ts";
import { prizeClaimed } from "./handlers/prize-claimed.ts";
import { prizeExpired } from "./handlers/prize-expired.ts";
import { winnersSelected } from "./handlers/winners-selected.ts";

export const drawHandlers: HandlerMap<"draw"> = {
  "draw.entry_created": entryCreated,
  "draw.winners_selected": winnersSelected,
  "draw.prize_claimed": prizeClaimed,
  "draw.prize_expired": prizeExpired,
};
