import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeExperience } from "../experiences.ts";

export const experiencePaused: EventHandler<"experience.paused"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { experienceId, reason, pausedAt } = event.data;
  await mergeExperience(tx, experienceId, { pausedAt, pauseReason: reason });
  await recordAnalytics("experience_paused", { experienceId, reason: reason ?? null });
};
