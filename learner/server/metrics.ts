/** The learner endpoint's counters: one object shared by its components, each bumping the counters of its job. */

/** Counters, monotonically increasing except `connectionsLive`. */
export interface ServerMetrics {
  connectionsOpened: number;
  connectionsClosed: number;
  connectionsLive: number;
  authFailures: number;
  originRejected: number;
  overLimit: number;
  /** TCP connections destroyed for not completing the WebSocket upgrade within `upgradeTimeoutMs`. */
  upgradeTimeouts: number;
  /** Connections closed 4004: their outgoing buffer passed `maxBufferedBytes` (the peer stopped reading). */
  slowReaders: number;
  /** Connections closed with 4005 because a send did not complete within `sendTimeoutMs`. */
  sendTimeouts: number;
  helloTimeouts: number;
  wrongRun: number;
  protocolMismatch: number;
  superseded: number;
  fencedHellos: number;
  textFrames: number;
  decodeErr: number;
  schemaErr: number;
  decodeBudgetExceeded: number;
  protocolErr: number;
  wsErrors: number;
  creditViolations: number;
  heartbeatTimeouts: number;
  pingsSent: number;
  internalErr: number;
  trialsReceived: number;
  trialsCommitted: number;
  dupSuppressed: number;
  conflicts: number;
  rejected: number;
  bytesIn: number;
  bytesOut: number;
}

export function zeroMetrics(): ServerMetrics {
  return {
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsLive: 0,
    authFailures: 0,
    originRejected: 0,
    overLimit: 0,
    upgradeTimeouts: 0,
    slowReaders: 0,
    sendTimeouts: 0,
    helloTimeouts: 0,
    wrongRun: 0,
    protocolMismatch: 0,
    superseded: 0,
    fencedHellos: 0,
    textFrames: 0,
    decodeErr: 0,
    decodeBudgetExceeded: 0,
    schemaErr: 0,
    protocolErr: 0,
    wsErrors: 0,
    creditViolations: 0,
    heartbeatTimeouts: 0,
    pingsSent: 0,
    internalErr: 0,
    trialsReceived: 0,
    trialsCommitted: 0,
    dupSuppressed: 0,
    conflicts: 0,
    rejected: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}
