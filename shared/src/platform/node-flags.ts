/**
 * The Node flags the two services run with, wherever they are started: their Dockerfiles, `npm
 * start` and the harness that runs the built services for the fault suite and the benchmark.
 *
 * A young generation of 32 MiB semi-spaces instead of V8's 16: a request or a delivery allocates
 * a few hundred short-lived objects (parsed bodies, rows, messages, log fields), and with the
 * default size the scavenger runs often enough to find many of them still in flight and copy
 * them, twice, into the old generation. In closed-0ms, four interleaved pairs: the ticketing
 * process 0.76-0.85 ms of CPU per notification against 0.84-1.08, the handler 0.37-0.41 against
 * 0.39-0.49, for 10-15 MiB more resident memory each.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
