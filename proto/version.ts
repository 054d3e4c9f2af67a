/**
 * Version of the actor<->learner wire protocol. Bump it on any incompatible change to proto/messages.ts;
 * a learner closes a `hello` with another version with close code 4002.
 */
// 2: trial stats carry actor busy/uptime counters and weight-switch latency, rows `hasLogp`, trials `policy`, and
// policy messages `publishedAt`. Schemas are strict, so a version-1 peer would reject these frames mid-run (1008);
// the bump makes a mixed deployment fail at `hello` with 4002 instead.
// 3: trial stats carry the actor's `outboxDepth` (delivery backlog, shown per actor on the learner's dashboard), and
// rows carry `won` (the winning turn, no longer rebuilt by the learner from `episodesWon`).
export const PROTOCOL_VERSION = 3;
