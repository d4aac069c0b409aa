import type { Envelope } from "@fanfare-relay/events/envelope";
import { createLogger, type Logger } from "@fanfare-relay/logging/logger";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { sign } from "@fanfare-relay/signature/sign";
import { deleteKeys, testRedisUrl, uniquePrefix } from "@fanfare-relay/testing/redis";
import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";
import { buildApp, type IngestApp, type IngestDeps } from "../src/app.ts";

export const SECRET = "whsec_test_primary_0123456789abcdef";
export const OLD_SECRET = "whsec_test_previous_fedcba9876543210";

export interface Harness {
  app: IngestApp;
  producer: EventProducer;
  connection: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** An ingest app on real Redis, with its own key prefix so test files do not interfere. */
export async function createHarness(
  overrides: Partial<IngestDeps> & { redisUrl?: string; logger?: FastifyBaseLogger } = {},
): Promise<Harness> {
  const { redisUrl = testRedisUrl, ...deps } = overrides;
  const prefix = uniquePrefix("ingest");
  const connection = createProducerConnection(redisUrl);
  connection.on("error", () => undefined);
  const producer = new EventProducer({ connection, prefix });
  // Enqueue fails fast until Redis is reached, and closing queues that are still connecting
  // leaves BullMQ with rejected connect promises: start from a ready producer.
  await producer.waitUntilReady();
  const app = buildApp({
    secrets: [SECRET],
    toleranceSeconds: 300,
    bodyLimitBytes: 1024 * 1024,
    enqueueTimeoutMs: 1_000,
    producer,
    redis: connection,
    ...deps,
  });
  await app.ready();
  return {
    app,
    producer,
    connection,
    prefix,
    async close() {
      await app.close();
      if (connection.status === "ready") await deleteKeys(connection, prefix);
      await producer.close();
      connection.disconnect();
    },
  };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export interface SignedOptions {
  secrets?: string | string[];
  timestamp?: number;
  contentType?: string;
}

/** A delivery exactly as the sender makes it: raw JSON bytes and their signature. */
export function signedDelivery(body: string | object, options: SignedOptions = {}) {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  const signature = sign({
    payload,
    secrets: options.secrets ?? SECRET,
    timestamp: options.timestamp ?? nowSeconds(),
  });
  return {
    method: "POST" as const,
    url: "/webhooks/fanfare",
    headers: {
      "content-type": options.contentType ?? "application/json",
      "x-fanfare-signature": signature,
    },
    payload,
  };
}

let counter = 0;
export function uniqueEvent(overrides: Partial<Envelope> = {}): Envelope {
  counter += 1;
  return {
    id: `evt_test_${Date.now()}_${counter}_${Math.random().toString(36).slice(2, 8)}`,
    type: "queue.consumer_entered",
    created: nowSeconds(),
    organizationId: "org_test",
    experienceId: "exp_test",
    data: {
      consumerId: "con_test",
      experienceId: "exp_test",
      distributionId: "dist_test",
      position: 7,
      enteredAt: new Date().toISOString(),
    },
    ...overrides,
  };
}

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: () => Record<string, unknown>[];
}

/** The ingest's real logger (serializers, redaction), writing into memory instead of stdout. */
export function captureLogs(level = "info"): CapturedLogs {
  const raw: string[] = [];
  const logger = createLogger("ingest", level, {
    write(line: string) {
      raw.push(line);
    },
  });
  return {
    logger,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
