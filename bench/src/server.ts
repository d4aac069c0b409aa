// One server under test, in its own process so the load generator does not share its core.
// Usage: tsx src/server.ts <ingest|minimal|bare> <port> <redis prefix>
import { buildApp } from "@fanfare-relay/ingest/app";
import { createLogger } from "@fanfare-relay/logging/logger";
import { defaultJobOptions } from "@fanfare-relay/queues/job-options";
import { EventProducer } from "@fanfare-relay/queues/producer";
import { createProducerConnection } from "@fanfare-relay/queues/redis-connection";
import { Queue } from "bullmq";
import Fastify from "fastify";
import { pino } from "pino";
import { createHmac, timingSafeEqual } from "node:crypto";
import { BENCH_SECRET } from "./bench-secret.ts";
import { bullPrefix } from "@fanfare-relay/queues/queue-keys";

const [mode = "ingest", port = "3999", prefix = "bench"] = process.argv.slice(2);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = createProducerConnection(redisUrl);

/** The baseline: checks the HMAC and calls queue.add, nothing else. */
function minimalApp() {
  // As a hand-written receiver would: BullMQ's own connection from the URL.
  const { hostname, port: redisPort } = new URL(redisUrl);
  const queue = new Queue("fanfare-queue", {
    connection: { host: hostname, port: Number(redisPort || 6379) },
    prefix: bullPrefix(prefix, "fanfare-queue"),
    defaultJobOptions: defaultJobOptions(),
  });
  const app = Fastify();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    done(null, body);
  });
  app.post("/webhooks/fanfare", async (request, reply) => {
    const body = request.body as Buffer;
    const header = String(request.headers["x-fanfare-signature"]);
    const [t, v1] = header.split(",").map((part) => part.split("=")[1] ?? "");
    const expected = createHmac("sha256", BENCH_SECRET).update(`${t}.`).update(body).digest();
    const given = Buffer.from(v1 ?? "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).send();
    }
    const event = JSON.parse(body.toString()) as { id: string; type: string };
    await queue.add(event.type, event, { jobId: event.id });
    return reply.send({ received: true });
  });
  return app;
}

/** The floor: Fastify reads the body and answers 200; no signature, no JSON, no Redis. */
function bareApp() {
  const app = Fastify();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    done(null, body);
  });
  app.post("/webhooks/fanfare", async (_request, reply) => reply.send({ received: true }));
  return app;
}

async function ingestApp() {
  const producer = new EventProducer({ connection, prefix });
  await producer.waitUntilReady();
  return buildApp({
    secrets: [BENCH_SECRET],
    toleranceSeconds: 300,
    bodyLimitBytes: 1024 * 1024,
    enqueueTimeoutMs: 2_000,
    producer,
    redis: connection,
    // As deployed: one info line per delivery (to /dev/null, so the disk is not measured).
    logger: createLogger("ingest", "info", pino.destination({ dest: "/dev/null", sync: false })),
  });
}

const app = mode === "minimal" ? minimalApp() : mode === "bare" ? bareApp() : await ingestApp();
await app.listen({ port: Number(port), host: "127.0.0.1" });
process.send?.("listening");
process.on("SIGTERM", () => {
  void app.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
