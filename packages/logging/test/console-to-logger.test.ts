import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { routeConsoleToLogger } from "../src/console-to-logger.ts";
import { createLogger } from "../src/logger.ts";

/** A logger writing into an array of parsed lines, and a console-shaped object to patch. */
function setup(level = "info") {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  const logger = createLogger("test", level, destination);
  const printed: unknown[][] = [];
  const record = (...args: unknown[]) => {
    printed.push(args);
  };
  const target = { log: record, info: record, debug: record, warn: record, error: record };
  return {
    target,
    printed,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: routeConsoleToLogger(logger, target),
  };
}

describe("guarantee: what libraries print with console becomes pino JSON lines", () => {
  it('BullMQ\'s console.warn("IMPORTANT! Eviction policy is allkeys-lru …") → 1 JSON warn line with that msg and source console, nothing printed as text', () => {
    const { target, printed, lines } = setup();
    target.warn('IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 40,
        service: "test",
        source: "console",
        msg: 'IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"',
      }),
    ]);
    expect(printed).toEqual([]);
  });

  it("console.log / info / debug / error with format arguments → info, info, debug, error lines formatted like console (debug dropped at level info)", () => {
    const { target, lines } = setup();
    target.log("%d jobs in %s", 3, "wait");
    target.info("two", "words");
    target.debug("hidden");
    target.error("failed:", { code: 7 });
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      [30, "3 jobs in wait"],
      [30, "two words"],
      [50, "failed: { code: 7 }"],
    ]);
  });

  it("console.error(an Error quoting an email address) → one error line, err serialized, the address [email] in msg and err", () => {
    const { target, lines } = setup();
    target.error(new Error("550 <someone@example.test>: user unknown"));
    const [line] = lines();
    expect(line).toMatchObject({ level: 50, msg: "550 <[email]>: user unknown" });
    expect(line?.err).toMatchObject({ type: "Error", message: "550 <[email]>: user unknown" });
    expect(JSON.stringify(lines())).not.toContain("someone@");
  });

  it("restore → console methods print as before, no more lines", () => {
    const { target, printed, lines, restore } = setup();
    restore();
    target.warn("after");
    expect(printed).toEqual([["after"]]);
    expect(lines()).toEqual([]);
  });
});
