// The batched cycle on pg-boss 10: N workers, each on its own queue for
// DURATION seconds: insert BATCH jobs in one call (insert([...])), fetch
// them with batchSize=BATCH, complete them with one complete(name, ids).
// Every job's latency is from the start of its batch's insert to the end
// of the complete. Prints JSON {"rate": jobs/s, "p50_ms", "p99_ms",
// "p999_ms", "count": jobs, "errors"}.
const { PgBoss } = (() => { const m = require("pg-boss"); return { PgBoss: m.PgBoss || m.default || m }; })();
const [conn, workers, seconds] = [process.argv[2], +process.argv[3], +process.argv[4]];
const batch = +(process.argv[5] || 100);

(async () => {
  const boss = new PgBoss({ connectionString: conn, max: workers + 2, schedule: false, supervise: false });
  boss.on("error", (e) => console.error(e));
  await boss.start();
  for (let i = 0; i < workers; i++) await boss.createQueue("benchb" + i).catch(() => {});
  const lat = [];
  let errors = 0;
  const error = (msg) => { if (errors++ === 0) console.error("pgboss-batch: " + msg); };
  const start = Date.now(), until = start + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, async (_, i) => {
    const name = "benchb" + i;
    const jobs = Array.from({ length: batch }, (_, n) => ({ name, data: { n } }));
    while (Date.now() < until) {
      const t0 = process.hrtime.bigint();
      try {
        await boss.insert(jobs);
        const got = await boss.fetch(name, { batchSize: batch });
        if (got.length !== batch) error("fetched " + got.length + " of " + batch);
        if (got.length === 0) continue;
        await boss.complete(name, got.map((j) => j.id));
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        for (let n = 0; n < got.length; n++) lat.push(ms);
      } catch (e) {
        error(e.message);
      }
    }
  }));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(JSON.stringify({ rate: lat.length / ((Date.now() - start) / 1000), p50_ms: q(0.5), p99_ms: q(0.99), p999_ms: q(0.999),
    count: lat.length, errors }));
  await boss.stop({ graceful: false, wait: false }).catch(() => {});
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
