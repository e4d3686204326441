/** How long closing may take after a stop signal before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * Resolves on the first SIGINT or SIGTERM and keeps absorbing later ones: under
 * `npm start` a Ctrl-C arrives twice (from the terminal, and forwarded by npm), and a
 * second signal must not hit the default action, which kills without closing anything.
 * Signal listeners do not keep Node's event loop alive, so a timer holds it open until
 * the first signal; after it, an unref'd timer ends a shutdown that hangs.
 */
export function stopSignal(): Promise<NodeJS.Signals> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      clearInterval(keepAlive);
      setTimeout(() => {
        process.stderr.write(`steward: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting\n`);
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
