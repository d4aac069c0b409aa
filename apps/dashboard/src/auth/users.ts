import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type Role = "admin" | "viewer";

export interface UserCredentials {
  username: string;
  password: string;
  role: Role;
}

export interface User {
  username: string;
  role: Role;
  /**
   * Ties a session to the credentials it was made with: changing a user's password (or role) and
   * restarting ends that user's sessions.
   */
  fingerprint: string;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Equal-length digests compared in constant time: neither length nor content leaks by timing. */
const sameSecret = (a: Buffer, b: string) => timingSafeEqual(a, digest(b));

interface StoredUser extends User {
  usernameDigest: Buffer;
  passwordDigest: Buffer;
}

export class UserDirectory {
  readonly #users: StoredUser[];

  constructor(credentials: readonly UserCredentials[], sessionKey: Buffer) {
    // Only digests are kept: the plain passwords do not stay in memory longer than start-up.
    this.#users = credentials.map(({ username, password, role }) => ({
      username,
      role,
      fingerprint: createHmac("sha256", sessionKey)
        .update(`${role}\u0000${username}\u0000${password}`)
        .digest("base64url")
        .slice(0, 22),
      usernameDigest: digest(username),
      passwordDigest: digest(password),
    }));
  }

  /** Checks every user, whatever matches first, so the time taken does not tell who exists. */
  verify(username: string, password: string): User | undefined {
    let found: StoredUser | undefined;
    for (const user of this.#users) {
      const nameMatches = sameSecret(user.usernameDigest, username);
      const passwordMatches = sameSecret(user.passwordDigest, password);
      if (nameMatches && passwordMatches) found ??= user;
    }
    return found && publicUser(found);
  }

  /** The user a session names, if it still exists with the credentials the session was made with. */
  fromSession(username: unknown, fingerprint: unknown): User | undefined {
    if (typeof username !== "string" || typeof fingerprint !== "string") return undefined;
    const user = this.#users.find((candidate) => candidate.username === username);
    if (user === undefined) return undefined;
    const expected = Buffer.from(user.fingerprint);
    const given = Buffer.from(fingerprint);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return publicUser(user);
  }
}

const publicUser = ({ username, role, fingerprint }: StoredUser): User => ({
  username,
  role,
  fingerprint,
});
