/** A `host:port` of a Redis node or a Sentinel. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * Credentials and TLS for cluster nodes and Sentinel-managed primaries (`REDIS_USERNAME`,
 * `REDIS_PASSWORD`, `REDIS_TLS`). With one node they may also come from the URL; these win.
 */
export interface RedisAuth {
  username?: string | undefined;
  password?: string | undefined;
  tls?: boolean | undefined;
}

/** Where the project's Redis is: one node, a Redis Cluster, or a primary watched by Sentinel. */
export type RedisTarget =
  | { mode: "single"; url: string; auth?: RedisAuth }
  /** `nodes` are seeds: the client discovers the rest of the cluster from any one of them. */
  | { mode: "cluster"; nodes: readonly RedisNodeAddress[]; auth?: RedisAuth }
  | {
      mode: "sentinel";
      sentinels: readonly RedisNodeAddress[];
      /** The name the Sentinels monitor the primary under (`sentinel monitor <name> …`). */
      masterName: string;
      auth?: RedisAuth;
      /** The Sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
      sentinelPassword?: string | undefined;
    };

/**
 * Parses `host:port,host:port` (REDIS_CLUSTER_NODES, REDIS_SENTINELS); `[::1]:7000` for IPv6.
 * Returns the addresses, or the first entry that is not one as `{ invalid }` (so a message can
 * name it: addresses carry no secrets).
 */
export function parseNodeList(value: string): RedisNodeAddress[] | { invalid: string } {
  const nodes: RedisNodeAddress[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(entry);
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
      return { invalid: entry };
    }
    nodes.push({ host, port });
  }
  return nodes.length > 0 ? nodes : { invalid: value };
}

/** The target without secrets, for logs and the CLI: `redis://…`, `cluster 127.0.0.1:7000,…`. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: readonly RedisNodeAddress[]) =>
    nodes
      .map(({ host, port }) => `${host.includes(":") ? `[${host}]` : host}:${String(port)}`)
      .join(",");
  switch (target.mode) {
    case "single":
      return redactRedisUrl(target.url);
    case "cluster":
      return `cluster ${list(target.nodes)}`;
    case "sentinel":
      return `sentinel ${target.masterName} at ${list(target.sentinels)}`;
  }
}

/** Redacts the password of a Redis URL so it can be logged. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable url)";
  }
}
