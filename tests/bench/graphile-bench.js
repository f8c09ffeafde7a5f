// graphile-worker against the same PostgreSQL, as the queue scenarios
// measure the service: N producers for DURATION seconds, each waiting for
// its jobs to be done before it adds the next ones, and a runner working
// them with N jobs at once (concurrency N).
//   BATCH 1 (queue_cycle): addJob, then wait for the job to complete;
//     graphile-worker's defaults (no local queue, each completion its own
//     statement).
//   BATCH > 1 (queue_batch): addJobs of BATCH jobs in one call, then wait
//     for all of them; the runner in graphile-worker's documented batched
//     mode (worker.graphile.org/docs/performance#batching): localQueue.size
//     BATCH (jobs fetched and locked BATCH at a time) and
//     completeJobBatchDelay 0 (completions gathered into one statement).
// A job is done at the runner's "job:complete" event: its task returned
// and its completion was handed to the runner (with completeJobBatchDelay
// the statement follows within the same tick). Its latency runs from the
// start of the add that added it. Prints JSON {"rate": jobs/s, "p50_ms",
// "p99_ms", "p999_ms", "count": jobs, "errors"}.
const { run, makeWorkerUtils, Logger } = require("graphile-worker");
const { Pool } = require("pg");
const [conn, workers, seconds] = [process.argv[2], +process.argv[3], +process.argv[4]];
const batch = +(process.argv[5] || 1);

(async () => {
  // graphile-worker's own messages to stderr, warnings and errors only:
  // stdout carries the result.
  const logger = new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") console.error("graphile-worker: " + message);
  });
  const pgPool = new Pool({ connectionString: conn, max: workers + 4 });
  pgPool.on("error", (e) => console.error("graphile-bench: pool: " + e.message));
  pgPool.on("connect", (client) => client.on("error", (e) => console.error("graphile-bench: client: " + e.message)));
  const utils = await makeWorkerUtils({ pgPool, logger });
  await utils.migrate();
  const waiting = new Map(); // job key -> resolve(done time)
  const preset = batch > 1 ? { worker: { localQueue: { size: batch }, completeJobBatchDelay: 0 } } : undefined;
  const runner = await run({
    pgPool, logger, concurrency: workers, noHandleSignals: true, pollInterval: 1000, preset,
    taskList: { bench: async () => {} },
  });
  let errors = 0;
  const error = (msg) => { if (errors++ === 0) console.error("graphile-bench: " + msg); };
  runner.events.on("job:complete", ({ job, error: e }) => {
    if (e) error(String(e));
    const done = waiting.get(job.payload.k);
    if (done) { waiting.delete(job.payload.k); done(process.hrtime.bigint()); }
  });
  const lat = [];
  const start = Date.now(), until = start + seconds * 1000;
  // A job that never completes ends its producer's wait 30 s after the
  // run, as an error, so the run still ends.
  const watchdog = setTimeout(() => { for (const done of waiting.values()) done(null); waiting.clear(); },
    seconds * 1000 + 30000);
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    let seq = 0;
    while (Date.now() < until) {
      const specs = Array.from({ length: batch }, () => ({ identifier: "bench", payload: { k: w + "-" + seq++ } }));
      const done = specs.map((s) => new Promise((resolve) => waiting.set(s.payload.k, resolve)));
      const t0 = process.hrtime.bigint();
      try {
        if (batch > 1) await utils.addJobs(specs);
        else await utils.addJob("bench", specs[0].payload);
        for (const at of await Promise.all(done)) {
          if (at === null) error("a job did not complete within 30 s of the run's end");
          else lat.push(Number(at - t0) / 1e6);
        }
      } catch (e) {
        for (const s of specs) waiting.delete(s.payload.k);
        error(e.message);
      }
    }
  }));
  const elapsed = (Date.now() - start) / 1000;
  clearTimeout(watchdog);
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(JSON.stringify({ rate: lat.length / elapsed, p50_ms: q(0.5), p99_ms: q(0.99), p999_ms: q(0.999),
    count: lat.length, errors }));
  await runner.stop().catch(() => {});
  await utils.release().catch(() => {});
  await pgPool.end().catch(() => {});
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
