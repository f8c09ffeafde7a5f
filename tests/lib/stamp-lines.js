// Copies stdin to stdout line by line, each non-empty line prefixed with
// the time it arrived (seconds since the epoch, ms resolution) and a space:
// one process for the whole stream, so a line's stamp is not delayed by
// starting a program per line (11-mcp.bats, the long event stream).
"use strict";
const readline = require("readline");
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (line !== "") process.stdout.write(`${(Date.now() / 1000).toFixed(3)} ${line}\n`);
});
