/**
 * Token authentication of sessions.
 *
 * When the server has a token, a session must send `auth <token>` before anything else. Tokens
 * are compared in constant time; each session gets a limited number of attempts and is closed
 * after the last wrong one. Every failure is reported to the caller so that it can be logged with
 * the peer's address.
 *
 * @module
 */

/** Default number of wrong tokens a session may send before it is closed. */
export const DEFAULT_MAX_AUTH_ATTEMPTS = 3;

/** The result of one `auth` attempt. */
export type AuthResult =
  | { ok: true }
  | { ok: false; attemptsLeft: number; message: string };

/** Compares two strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Per-session authentication state. */
export class SessionAuth {
  #token: string | undefined;
  #authenticated: boolean;
  #attemptsLeft: number;

  /**
   * Creates the state for one session. Without a `token` the session starts authenticated.
   */
  constructor(token: string | undefined, maxAttempts = DEFAULT_MAX_AUTH_ATTEMPTS) {
    this.#token = token;
    this.#authenticated = token === undefined;
    this.#attemptsLeft = maxAttempts;
  }

  /** True when the session may run commands. */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** True when the server asks for a token at all. */
  get required(): boolean {
    return this.#token !== undefined;
  }

  /** Attempts left before the session is closed. */
  get attemptsLeft(): number {
    return this.#attemptsLeft;
  }

  /** Checks a token. */
  attempt(candidate: string): AuthResult {
    if (this.#token === undefined || this.#authenticated) return { ok: true };
    if (this.#attemptsLeft <= 0) {
      return { ok: false, attemptsLeft: 0, message: "too many wrong tokens" };
    }
    if (constantTimeEqual(candidate, this.#token)) {
      this.#authenticated = true;
      return { ok: true };
    }
    this.#attemptsLeft--;
    return {
      ok: false,
      attemptsLeft: this.#attemptsLeft,
      message: this.#attemptsLeft > 0
        ? `wrong token (${this.#attemptsLeft} attempt${this.#attemptsLeft === 1 ? "" : "s"} left)`
        : "wrong token; too many attempts, closing the session",
    };
  }
}

/**
 * Says what is wrong with a token a server is configured with, or `undefined` when it is fine.
 * A token must be non-empty (an empty one is no secret) and one word without spaces or control
 * characters (it is sent as `auth <token>` on a line).
 */
export function tokenProblem(token: string): string | undefined {
  if (token === "") return "the token is empty";
  // deno-lint-ignore no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(token)) {
    return "the token contains spaces or control characters (it must be one word)";
  }
  return undefined;
}
