import type { EventHandler, HandlerMap } from "../src/handler.ts";

/** Test handlers for the experience family whose behaviour each test controls. */
export interface StubControl {
  /** Throw this many more times before succeeding (Infinity: always). */
  failures: number;
  /** Times a handler body ran to the end (committed or not). */
  runs: number;
  /** Mail this address on experience.started. */
  mailTo?: string;
}

export function stubHandlers(control: StubControl): HandlerMap<"experience"> {
  const handler: EventHandler<
    "experience.started" | "experience.ended" | "experience.paused" | "experience.resumed"
  > = async (context) => {
    if (control.failures > 0) {
      control.failures -= 1;
      throw new Error("downstream unavailable");
    }
    control.runs += 1;
    await context.tx
      .insertInto("experiences")
      .values({ id: context.event.data.experienceId, name: context.event.id })
      .onConflict((conflict) => conflict.column("id").doNothing())
      .execute();
    await context.recordAnalytics("stub", { type: context.event.type });
    if (control.mailTo !== undefined) {
      await context.queueEmail({
        key: `stub:${context.event.id}`,
        to: control.mailTo,
        template: "stub",
        subject: "Stub",
        text: "hello",
        html: "<p>hello</p>",
      });
    }
  };
  return {
    "experience.started": handler,
    "experience.ended": handler,
    "experience.paused": handler,
    "experience.resumed": handler,
  };
}
