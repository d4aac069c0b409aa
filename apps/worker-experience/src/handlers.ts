import type { HandlerMap } from "@fanfare-relay/worker/handler";
import { experienceEnded } from "./handlers/experience-ended.ts";
import { experiencePaused } from "./handlers/experience-paused.ts";
import { experienceResumed } from "./handlers/experience-resumed.ts";
import { experienceStarted } from "./handlers/experience-started.ts";

export const experienceHandlers: HandlerMap<"experience"> = {
  "experience.started": experienceStarted,
  "experience.paused": experiencePaused,
  "experience.resumed": experienceResumed,
  "experience.ended": experienceEnded,
};
