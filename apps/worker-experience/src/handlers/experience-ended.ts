import type { EventHandler } from "@fanfare-relay/worker/handler";
import { mergeExperience } from "../experiences.ts";

export const experienceEnded: EventHandler<"experience.ended"> = async ({
  tx,
  event,
  recordAnalytics,
}) => {
  const { experienceId, totalParticipants, endedAt } = event.data;
  await mergeExperience(tx, experienceId, { endedAt, totalParticipants });
  await recordAnalytics("experience_ended", {
    experienceId,
    totalParticipants: totalParticipants ?? null,
  });
};
