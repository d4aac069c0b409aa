import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

interface Holder {
  pid: number;
  url?: string;
}

export class DataDirInUseError extends Error {
  override name = "DataDirInUseError";
}

export interface DataDirLock {
  /** Records the URL being served, which another process's error then names. */
  publish(url: string): Promise<void>;
  release(): Promise<void>;
}

/**
 * Claims a PGlite data folder for this process: two PGlite instances writing one folder corrupt
 * it, and nothing in PGlite prevents that. A lock left by a process that is gone is replaced.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, "host.lock");
  for (;;) {
    // Written aside then linked in: link fails if the lock exists, and a reader never sees it empty.
    const claimed = await writeNew(path, { pid: process.pid }).then(
      () => true,
      (error: unknown) => {
        if (code(error) === "EEXIST") return false;
        throw error;
      },
    );
    if (claimed) {
      return {
        publish: (url) => replace(path, { pid: process.pid, url }),
        release: async () => {
          if ((await readHolder(path))?.pid === process.pid) await rm(path, { force: true });
        },
      };
    }
    const holder = await readHolder(path);
    if (holder !== undefined && isAlive(holder.pid)) {
      const serving = holder.url === undefined ? "starting up" : `serving ${holder.url}`;
      const hint = holder.url === undefined ? "" : `; set DATABASE_URL=${holder.url} to share it`;
      throw new DataDirInUseError(
        `PGlite data folder ${dataDir} is in use by process ${holder.pid} (${serving})${hint}`,
      );
    }
    await rm(path, { force: true });
  }
}

async function writeNew(path: string, holder: Holder): Promise<void> {
  const temp = `${path}.${randomUUID()}`;
  await writeFile(temp, JSON.stringify(holder));
  try {
    await link(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

async function replace(path: string, holder: Holder): Promise<void> {
  const temp = `${path}.${randomUUID()}`;
  await writeFile(temp, JSON.stringify(holder));
  await rename(temp, path);
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, "utf8")) as Partial<Holder>;
    if (typeof holder.pid !== "number") return undefined;
    return { pid: holder.pid, url: typeof holder.url === "string" ? holder.url : undefined };
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return code(error) === "EPERM";
  }
}

function code(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}
