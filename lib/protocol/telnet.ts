/**
 * Just enough telnet (RFC 854, 857, 858) for a `telnet` client to be a serial terminal.
 *
 * A human-mode TCP session attached to a console offers `WILL ECHO` and `WILL SUPPRESS-GO-AHEAD`
 * (the client then sends each key as it is typed and stops echoing: character mode) and
 * withdraws them on detach (`WONT`: the client is back to line mode). Whatever else the client
 * asks for is refused (`DO x` is answered `WONT x`, `WILL x` is answered `DONT x`), subnegotiations
 * are skipped, and every IAC sequence is taken out of the byte stream, with `IAC IAC` kept as one
 * 0xff byte. A plain `nc` client never sends IAC (it is not valid UTF-8, so never part of a
 * command line), so the filter costs it nothing.
 *
 * @module
 */

/** Interpret As Command. */
export const IAC = 255;
/** Option negotiation verbs. */
export const DONT = 254;
/** Option negotiation verbs. */
export const DO = 253;
/** Option negotiation verbs. */
export const WONT = 252;
/** Option negotiation verbs. */
export const WILL = 251;
/** Subnegotiation begin. */
export const SB = 250;
/** Subnegotiation end. */
export const SE = 240;
/** Option: echo. */
export const OPT_ECHO = 1;
/** Option: suppress go-ahead. */
export const OPT_SGA = 3;

/** The offer that puts a telnet client in character mode with remote echo. */
export const CHARACTER_MODE: Uint8Array = Uint8Array.of(IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA);

/** Withdraws {@linkcode CHARACTER_MODE}: the client goes back to line mode with local echo. */
export const LINE_MODE: Uint8Array = Uint8Array.of(IAC, WONT, OPT_ECHO, IAC, WONT, OPT_SGA);

/** The result of {@linkcode TelnetFilter.filter}. */
export interface TelnetFiltered {
  /** The data bytes, IAC sequences taken out. */
  data: Uint8Array;
  /** Replies to send to the client (empty when none). */
  reply: Uint8Array;
  /** True once the client has sent any telnet command (it is a telnet client). */
  telnet: boolean;
}

enum State {
  Data,
  Iac,
  Verb,
  Sub,
  SubIac,
}

/** Strips telnet commands from a byte stream and answers option negotiations. */
export class TelnetFilter {
  #state = State.Data;
  #verb = 0;
  #seen = false;
  /** Options we offer (`WILL`) and so accept a `DO` for, without a reply. */
  readonly #offered = new Set<number>([OPT_ECHO, OPT_SGA]);

  /** True once the client has sent a telnet command. */
  get isTelnet(): boolean {
    return this.#seen;
  }

  /** Takes the IAC sequences out of `bytes` (state spans chunks). */
  filter(bytes: Uint8Array): TelnetFiltered {
    if (this.#state === State.Data && !bytes.includes(IAC)) {
      return { data: bytes, reply: new Uint8Array(0), telnet: this.#seen };
    }
    const data: number[] = [];
    const reply: number[] = [];
    for (const b of bytes) {
      switch (this.#state) {
        case State.Data:
          if (b === IAC) this.#state = State.Iac;
          else data.push(b);
          break;
        case State.Iac:
          this.#seen = true;
          if (b === IAC) {
            data.push(IAC);
            this.#state = State.Data;
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.#verb = b;
            this.#state = State.Verb;
          } else if (b === SB) {
            this.#state = State.Sub;
          } else {
            this.#state = State.Data; // NOP, GA, AYT, BRK, ...: nothing to do
          }
          break;
        case State.Verb:
          this.#state = State.Data;
          if (this.#verb === DO && !this.#offered.has(b)) reply.push(IAC, WONT, b);
          else if (this.#verb === WILL) reply.push(IAC, DONT, b);
          break;
        case State.Sub:
          if (b === IAC) this.#state = State.SubIac;
          break;
        case State.SubIac:
          this.#state = b === SE ? State.Data : State.Sub;
          break;
      }
    }
    return { data: Uint8Array.from(data), reply: Uint8Array.from(reply), telnet: this.#seen };
  }
}
