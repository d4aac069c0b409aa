import { describe, expect, it } from "vitest";
import { createLineFormatter, logFormatOf, prefixLines } from "../log-format.mjs";

// A record as the apps' pino loggers write it.
const time = new Date(2025, 10, 26, 9, 40, 20, 123).getTime();
const record = (fields) =>
  JSON.stringify({ level: 30, time, pid: 4242, hostname: "box", ...fields });

describe("pnpm start's log lines", () => {
  const pretty = createLineFormatter({ format: "pretty", colorize: false });

  it("print a pino record as time, level, message and its own fields, without pid and host", () => {
    expect(pretty(record({ msg: "worker ready", queue: "fanfare-queue", concurrency: 100 }))).toBe(
      '[09:40:20.123] INFO: worker ready {"queue":"fanfare-queue","concurrency":100}',
    );
    expect(pretty(record({ level: 40, msg: "slow" }))).toBe("[09:40:20.123] WARN: slow");
  });

  it("put an error's stack on the lines after its message", () => {
    const lines = pretty(
      record({
        level: 50,
        msg: "job failed",
        jobId: "evt_1",
        err: {
          type: "Error",
          message: "bad row",
          stack: "Error: bad row\n    at apply (a.ts:1:1)",
        },
      }),
    ).split("\n");
    expect(lines[0]).toBe('[09:40:20.123] ERROR: job failed {"jobId":"evt_1"}');
    expect(lines.some((line) => line.includes("at apply (a.ts:1:1)"))).toBe(true);
  });

  it("leave lines that are not pino records as they are", () => {
    for (const line of [
      "mail catcher listening on smtp://127.0.0.1:1025",
      "{not json",
      '{"some":"json","without":"a level"}',
      "",
    ]) {
      expect(pretty(line)).toBe(line);
    }
  });

  it("colour the level only when asked to", () => {
    const coloured = createLineFormatter({ colorize: true })(record({ level: 40, msg: "slow" }));
    expect(coloured).toContain("\x1b[33mWARN\x1b[39m");
    expect(pretty(record({ level: 40, msg: "slow" }))).not.toContain("\x1b[");
  });

  it("keep every line as the app wrote it with LOG_FORMAT=json", () => {
    const json = createLineFormatter({ format: logFormatOf("json") });
    const line = record({ msg: "worker ready" });
    expect(json(line)).toBe(line);
    expect(logFormatOf(undefined)).toBe("pretty");
    expect(logFormatOf("")).toBe("pretty");
    expect(logFormatOf("JSON")).toBe("json");
    expect(logFormatOf("yaml")).toBeUndefined();
  });

  it("prefix every line with the app, coloured only when asked to", () => {
    expect(prefixLines("ingest", 36, "one\ntwo", false)).toBe("[ingest] one\n[ingest] two\n");
    expect(prefixLines("ingest", 36, "one", true)).toBe("\x1b[36m[ingest]\x1b[0m one\n");
  });
});
