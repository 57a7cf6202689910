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

  /** Counts a try refused without checking (the address must wait); returns attempts left. */
  refuse(): number {
    if (this.#attemptsLeft > 0) this.#attemptsLeft--;
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

/** Options of {@linkcode AuthThrottle}. */
export interface AuthThrottleOptions {
  /**
   * Wrong tokens from an address that cost no wait (default 1: a typo may be retried at once).
   */
  freeFailures?: number;
  /** Wait after the first wrong token that is not free, in ms (default 500); it doubles. */
  baseDelayMs?: number;
  /** Longest wait, in ms (default 60 000). */
  maxDelayMs?: number;
  /** An address with no wrong token for this long is forgotten, in ms (default 15 minutes). */
  forgetAfterMs?: number;
  /** Addresses remembered at most (default 4096; the least recently seen go first). */
  maxAddresses?: number;
  /** Wall clock in ms (tests inject one). Default `Date.now`. */
  now?: () => number;
}

/** Default of {@linkcode AuthThrottleOptions.maxAddresses}. */
export const DEFAULT_AUTH_THROTTLE_ADDRESSES = 4096;

interface AddressRecord {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

/**
 * Per-address back-off of authentication, across sessions and reconnects: after each wrong token
 * from an address (after the first, which may be a typo), that address may not try again for a
 * while (500 ms, doubling up to a minute);
 * a try during the wait is refused without looking at the token. A right token clears the
 * address. The table is bounded (least recently failed addresses are forgotten first), so a
 * flood of addresses costs bounded memory.
 */
export class AuthThrottle {
  readonly #base: number;
  readonly #free: number;
  readonly #max: number;
  readonly #forget: number;
  readonly #maxAddresses: number;
  readonly #now: () => number;
  /** In order of last failure (a Map keeps insertion order; re-inserted on each failure). */
  #table = new Map<string, AddressRecord>();

  /** Creates a throttle. */
  constructor(options: AuthThrottleOptions = {}) {
    this.#base = options.baseDelayMs ?? 500;
    this.#free = Math.max(0, options.freeFailures ?? 1);
    this.#max = options.maxDelayMs ?? 60_000;
    this.#forget = options.forgetAfterMs ?? 15 * 60_000;
    this.#maxAddresses = Math.max(1, options.maxAddresses ?? DEFAULT_AUTH_THROTTLE_ADDRESSES);
    this.#now = options.now ?? Date.now;
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#table.size;
  }

  /** Milliseconds `address` must still wait before its next try (0: it may try now). */
  waitMs(address: string): number {
    const r = this.#table.get(address);
    if (!r) return 0;
    const now = this.#now();
    if (now - r.lastFailure >= this.#forget) {
      this.#table.delete(address);
      return 0;
    }
    return Math.max(0, r.blockedUntil - now);
  }

  /** Records a wrong token from `address`; returns how long it must now wait, in ms. */
  failed(address: string): number {
    const now = this.#now();
    const r = this.#table.get(address);
    const failures = r && now - r.lastFailure < this.#forget ? r.failures + 1 : 1;
    const paid = failures - this.#free;
    const delay = paid <= 0 ? 0 : Math.min(this.#max, this.#base * 2 ** Math.min(paid - 1, 30));
    this.#table.delete(address);
    this.#table.set(address, { failures, blockedUntil: now + delay, lastFailure: now });
    while (this.#table.size > this.#maxAddresses) {
      this.#table.delete(this.#table.keys().next().value!);
    }
    return delay;
  }

  /** Records a right token from `address`: its slate is clean. */
  succeeded(address: string): void {
    this.#table.delete(address);
  }
}
