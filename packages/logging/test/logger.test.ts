import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, serializeError } from "../src/logger.ts";

/**
 * The shape of pg's DatabaseError (pg-protocol 1.x: every field of PostgreSQL's ErrorResponse),
 * as node-postgres throws it; this package does not depend on pg, the dashboard's tests log the
 * real one from PostgreSQL.
 */
class DatabaseError extends Error {
  override name = "error";
  severity = "ERROR";
  code = "22P05";
  detail: string | undefined = "Key (email)=(victim.person@example.org) already exists.";
  hint: string | undefined = "Check victim.person@example.org's row.";
  position: string | undefined = "12";
  internalPosition: string | undefined;
  internalQuery: string | undefined = "SELECT 'victim.person@example.org'";
  where: string | undefined =
    'JSON data, line 1: {"after":"mail victim.person@example.org\\u0000...';
  schema: string | undefined = "public";
  table: string | undefined = "job_data_edits";
  column: string | undefined = "changes";
  dataType: string | undefined;
  constraint: string | undefined = "job_data_edits_pkey";
  file: string | undefined = "jsonfuncs.c";
  line: string | undefined = "636";
  routine: string | undefined = "json_errsave_error";
}

describe("fault: a PostgreSQL error quoting row values is logged", () => {
  it("a DatabaseError whose `where`, `detail`, `internalQuery` and `hint` quote an email address → none of them nor the address serialized; code, severity, routine, table, column and constraint kept", () => {
    const serialized = serializeError(new DatabaseError("unsupported Unicode escape sequence"));
    expect(JSON.stringify(serialized)).not.toContain("victim");
    expect(serialized).not.toHaveProperty("where");
    expect(serialized).not.toHaveProperty("detail");
    expect(serialized).not.toHaveProperty("internalQuery");
    expect(serialized).toMatchObject({
      message: "unsupported Unicode escape sequence",
      hint: "Check [email]'s row.",
      code: "22P05",
      severity: "ERROR",
      routine: "json_errsave_error",
      table: "job_data_edits",
      column: "changes",
      constraint: "job_data_edits_pkey",
    });
  });

  it("the same error as the cause of another, logged at error by createLogger → the line has neither the payload text nor the address", () => {
    const output: string[] = [];
    const logger = createLogger(
      "dashboard",
      "info",
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          output.push(chunk.toString());
          callback();
        },
      }),
    );
    const cause = new DatabaseError("unsupported Unicode escape sequence");
    logger.error({ err: new Error("edit failed", { cause }) }, "request failed");
    logger.error({ err: cause }, "request failed");
    const text = output.join("");
    expect(text.trim().split("\n")).toHaveLength(2);
    expect(text).toContain('"code":"22P05"');
    expect(text).not.toMatch(/victim|JSON data|"where"|"detail"|"internalQuery"/);
  });
});
