// The same cycle on pg-boss (send -> fetch -> complete), N workers on their
// own queues, DURATION seconds, against the same PostgreSQL. Prints JSON
// {"rate", "p50_ms", "p99_ms", "p999_ms", "count", "errors"}.
const { PgBoss } = (() => { const m = require("pg-boss"); return { PgBoss: m.PgBoss || m.default || m }; })();
const [conn, workers, seconds] = [process.argv[2], +process.argv[3], +process.argv[4]];

(async () => {
  const boss = new PgBoss({ connectionString: conn, max: workers + 2, schedule: false, supervise: false });
  boss.on("error", (e) => console.error(e));
  await boss.start();
  for (let i = 0; i < workers; i++) await boss.createQueue("bench" + i).catch(() => {});
  const lat = [];
  let errors = 0;
  const start = Date.now(), until = start + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, async (_, i) => {
    const name = "bench" + i;
    while (Date.now() < until) {
      const t0 = process.hrtime.bigint();
      try {
        await boss.send(name, { n: 1 });
        const jobs = await boss.fetch(name);
        const job = Array.isArray(jobs) ? jobs[0] : jobs;
        await boss.complete(name, job.id);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (e) {
        if (errors++ === 0) console.error("pgboss-cycle: " + e.message);
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
