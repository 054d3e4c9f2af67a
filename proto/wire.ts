/**
 * Connection-level contract shared by both ends: WebSocket close codes (RFC 6455 §7.4.1 and the 4000-4999 private
 * range) and the codes of the `error` message. The learner sends them, the actor decides from them whether to
 * reconnect; both import them from here so they cannot drift apart.
 *
 * HTTP statuses before the upgrade (no WebSocket exists yet): 401 bad or missing token, 403 a browser Origin,
 * 503 over the connection limit or shutting down, 426 a plain HTTP request.
 */

export const CloseCode = {
  /** Orderly close (the actor said bye, or a test closed it). */
  NORMAL: 1000,
  /** Learner shutting down: reconnect later. */
  GOING_AWAY: 1001,
  /** Malformed WebSocket frame (sent by ws itself). */
  PROTOCOL_ERROR: 1002,
  /** Text frame: only binary msgpack frames are accepted. */
  UNSUPPORTED_DATA: 1003,
  /** Frame is not decodable msgpack for us (truncated, trailing bytes, extension types, nesting, too many values). */
  INVALID_PAYLOAD: 1007,
  /**
   * Schema violation, a type this side may not send or not yet (before hello), a frame too large for its type, no
   * hello in time, hello.actorId != token, credit or decode budget exceeded.
   */
  POLICY_VIOLATION: 1008,
  /** Frame larger than maxPayload (sent by ws itself). */
  MESSAGE_TOO_BIG: 1009,
  /** Learner failure while handling a valid message (e.g. the ledger could not commit): retry later. */
  INTERNAL_ERROR: 1011,
  /** hello.runId is not this learner's run. Fatal for the actor. */
  WRONG_RUN: 4001,
  /** hello.protocol differs from PROTOCOL_VERSION. Fatal for the actor. */
  PROTOCOL_MISMATCH: 4002,
  /** A newer connection of this actorId took over (sent to the OLD socket), or this incarnation was fenced. Fatal. */
  SUPERSEDED: 4003,
  /** The peer stopped reading: the learner's outgoing buffer for it passed its cap. Reconnect (and read). */
  SLOW_READER: 4004,
  /**
   * A send to the peer did not complete (its bytes were not taken by the socket) within the send deadline
   * (`learner.sendTimeoutSec`): the peer stopped reading or the path is dead. Sent by either side; reconnect.
   */
  SEND_TIMEOUT: 4005,
} as const;
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which an actor must not reconnect (a restart with a new configuration is needed), and why. */
export const FATAL_CLOSE_CODES: ReadonlyMap<number, string> = new Map([
  [CloseCode.WRONG_RUN, 'the learner serves another run'],
  [CloseCode.PROTOCOL_MISMATCH, 'the learner speaks another protocol version'],
  [CloseCode.SUPERSEDED, 'a newer process with this actorId took over (this incarnation is fenced)'],
]);

/**
 * Codes of the informational `error` message. The learner sends one just before it closes a handshaken
 * connection for a protocol problem, because a close reason is cut at 123 bytes and the message is not.
 */
export const ErrorCode = {
  /** The peer broke the protocol (the close code that follows says how). */
  PROTOCOL: 'protocol',
  /** The learner failed on a valid message; the actor keeps its records and resends them later. */
  INTERNAL: 'internal',
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
