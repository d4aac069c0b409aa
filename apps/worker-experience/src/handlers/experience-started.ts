import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeExperience } from "../experiences.ts";

export const experienceStarted: EventHandler<"experience.started"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { experienceId, type, name, startedAt } = event.data;
  await mergeExperience(tx, experienceId, { type, name, startedAt });
  await recordAnalytics("experience_started", { experienceId, type, name: name ?? null });
};
