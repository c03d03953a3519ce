#!/usr/bin/env node
// The seeds' integration test, kept: start the server, poll its default job from Node with
// the client library, print each status update, end with the final status.
//
//   node tests/integration.mjs            (after `make pkg` and `cargo build`)
import { loadClient, startServer } from "./helpers.mjs";

const server = await startServer(["--delay", process.env.INTEGRATION_DELAY ?? "3"]);
try {
  const { VideoTranslationClient } = await loadClient();
  console.log(`Integration test: server started at ${server.url}`);
  const client = new VideoTranslationClient(server.url, { initialDelayMs: 250, maxDelayMs: 1000 });
  const outcome = await client.waitForCompletion(undefined, {
    onUpdate: (update) =>
      console.log(
        `Status update: ${update.result} (attempt ${update.attempt}, ${Math.round((update.progress ?? 0) * 100)} %, ` +
          `${update.elapsedMs} ms elapsed${update.nextPollInMs === null ? "" : `, next poll in ${update.nextPollInMs} ms`})`,
      ),
  });
  console.log(`Final status: ${outcome.result}`);
  process.exitCode = outcome.result === "completed" ? 0 : 1;
} catch (error) {
  console.error(`Integration test failed: ${error.name}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await server.stop();
}
