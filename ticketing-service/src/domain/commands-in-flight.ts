/**
 * The commands under way. A client that leaves does not end its command: the statement runs on
 * and may commit after the HTTP server has closed its last connection. A stop waits for these
 * too, so that the relay's last batch carries what they committed.
 */
export type CommandsInFlight = {
  /** Tracks `command` until it settles; gives it back. */
  track: <T>(command: Promise<T>) => Promise<T>;
  /** Resolves once every command tracked so far has settled, however it ended. */
  settled: () => Promise<void>;
};

export function createCommandsInFlight(): CommandsInFlight {
  const running = new Set<Promise<unknown>>();
  return {
    track(command) {
      running.add(command);
      const forget = () => {
        running.delete(command);
      };
      command.then(forget, forget);
      return command;
    },
    async settled() {
      await Promise.allSettled([...running]);
    },
  };
}
