import sjson from "secure-json-parse";
import { IngestError } from "./errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const poisonSafe = { protoAction: "error", constructorAction: "error" } as const;

/**
 * Parses a verified body. Keys that could poison prototypes (`__proto__`, `constructor.prototype`)
 * are refused rather than stripped: a genuine Fanfare event never has them.
 */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new IngestError("INGEST_INVALID_JSON", "request body is not valid UTF-8");
  }
  try {
    return sjson.parse(text, undefined, poisonSafe);
  } catch (error) {
    if (isValidJson(text)) {
      throw new IngestError(
        "INGEST_FORBIDDEN_KEY",
        "request body contains a forbidden key (__proto__ or constructor.prototype)",
      );
    }
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    throw new IngestError("INGEST_INVALID_JSON", `request body is not valid JSON${detail}`);
  }
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
