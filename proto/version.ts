/**
 * Version of the actor<->learner wire protocol. Bump it on any incompatible change to proto/messages.ts;
 * a learner closes a `hello` with another version with close code 4002.
 */
export const PROTOCOL_VERSION = 1;
