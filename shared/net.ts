/** Small network helpers shared by the learner's and the actor's HTTP endpoints. */

/** A loopback peer address (IPv4 127/8, IPv4-mapped, or ::1): read-only endpoints are open to it. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(address);
}
