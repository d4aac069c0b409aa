import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeExperience } from "../experiences.ts";

export const experienceResumed: EventHandler<"experience.resumed"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { experienceId, pausedDuration, resumedAt } = event.data;
  await mergeExperience(tx, experienceId, { resumedAt, pausedDurationSeconds: pausedDuration });
  await recordAnalytics("experience_resumed", {
    experienceId,
    pausedDuration: pausedDuration ?? null,
  });
};
