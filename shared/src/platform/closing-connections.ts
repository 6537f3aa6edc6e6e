import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * `server.close()` drops only the keep-alive connections idle at that moment: one that is busy stays
 * open after its answer, and holds the close, until its client gives up on it or the close's grace
 * cuts it (a Prometheus scrape, an operator's browser). From the moment the close starts, the last
 * answer of each connection, if its headers are still to go out, says `Connection: close`, so that
 * its client opens no new request on it and Node ends the connection after it; a connection whose
 * answer had begun already is closed as soon as that answer is out.
 *
 * Returns what the close calls first.
 */
export function closeConnectionsAfterAnswers(server: Server): () => void {
  let closing = false;
  // By connection, in the order of its requests: a client may pipeline several on one. Forgotten
  // with the connection: the answer to a pipelined request waits in Node's queue for the one before
  // it, and if its client leaves before its turn it never emits 'close'.
  const unansweredByConnection = new Map<Socket, Set<ServerResponse>>();
  const unansweredOn = (connection: Socket): Set<ServerResponse> => {
    let answers = unansweredByConnection.get(connection);
    if (!answers) {
      answers = new Set();
      unansweredByConnection.set(connection, answers);
      connection.once('close', () => unansweredByConnection.delete(connection));
    }
    return answers;
  };
  // Before the app's own listener, so that the header is set before the app can answer.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = req.socket;
    if (closing) res.setHeader('Connection', 'close');
    // A connection destroyed already may have emitted its 'close': this answer goes nowhere anyway.
    else if (!connection.destroyed) unansweredOn(connection).add(res);
    // 'close' comes after Node has detached the answer from its connection: the connection is idle
    // by then, unless the client pipelined another request on it.
    res.once('close', () => {
      unansweredByConnection.get(connection)?.delete(res);
      if (closing) server.closeIdleConnections();
    });
  });
  return () => {
    closing = true;
    // The last answer of each connection only: Node drops the answers queued behind one that says
    // close, and the app has run their pipelined requests already (a command committed, unanswered).
    for (const answers of unansweredByConnection.values()) {
      const last = [...answers].at(-1);
      if (last && !last.headersSent) last.setHeader('Connection', 'close');
    }
  };
}
