// An official MCP TypeScript SDK client against /mcp through lighttpd:
// connect, check the protocol version it settled on, list the tools (each
// with a title and annotations), call every tool with valid input (the SDK
// checks structuredContent against the tool's outputSchema) and with
// invalid input (isError with the HTTP route's error and detail). Prints
// one line per check and exits 1 when any failed.
//   node sdk-client.mjs URL TOKEN sdk   the 1.x SDK (@modelcontextprotocol/sdk): the session era, 2025-11-25
//   node sdk-client.mjs URL TOKEN v2    the 2.x client (@modelcontextprotocol/client): the stateless era, 2026-07-28
import assert from 'node:assert/strict';

const [url, token, which = 'sdk'] = process.argv.slice(2);
const v2 = which === 'v2';
const { Client, StreamableHTTPClientTransport } = v2
  ? await import('@modelcontextprotocol/client')
  : {
    ...(await import('@modelcontextprotocol/sdk/client/index.js')),
    ...(await import('@modelcontextprotocol/sdk/client/streamableHttp.js')),
  };
const expectedVersion = v2 ? '2026-07-28' : '2025-11-25';
// The 2.x client probes with server/discover only when asked to ('auto'):
// its default is the 2025 sequence.
const client = new Client({ name: 'backend-test', version: '1.0.0' },
  v2 ? { versionNegotiation: { mode: 'auto' } } : undefined);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
let failed = 0;
const check = async (name, fn) => {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
  }
};

const valid = async (tool, args) => {
  const r = await client.callTool({ name: tool, arguments: args }); // validates outputSchema
  assert.equal(r.isError, false, JSON.stringify(r.content));
  assert.ok(r.structuredContent, 'structuredContent');
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);
  return r.structuredContent;
};
const invalid = async (tool, args, error, field) => {
  const r = await client.callTool({ name: tool, arguments: args });
  assert.equal(r.isError, true, JSON.stringify(r));
  const body = JSON.parse(r.content[0].text);
  assert.equal(body.error, error, r.content[0].text);
  assert.equal(typeof body.detail, 'string');
  if (field) assert.equal(body.field, field, r.content[0].text);
};

await client.connect(transport);
await check(`the protocol version settled on is ${expectedVersion}`, async () => {
  const v = v2 ? client.getNegotiatedProtocolVersion() : transport.protocolVersion;
  console.log(`# ${which}: protocol version ${v}, session ${transport.sessionId ?? 'none'}`);
  assert.equal(v, expectedVersion);
  assert.equal(transport.sessionId === undefined, v2, 'a session in the session era, none in the stateless one');
});
// Every tool the registry declares (BACKEND_TOOLS, from backend-registry
// --tools): the server must list exactly these, and each needs its calls
// below (a valid and an invalid one), so no tool goes untested.
const expected = (process.env.BACKEND_TOOLS ?? '').split(',').filter((t) => t);
assert.ok(expected.length > 0, 'BACKEND_TOOLS names the registry\'s tools');
await check('tools/list names the contract tools, each with input and output schemas', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [...expected].sort());
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal(t.outputSchema.type, 'object', t.name);
    assert.ok(t.description.length > 10, t.name);
    assert.ok(t.title && t.title.length > 3, `${t.name} has a title`);
    for (const h of ['readOnlyHint', 'destructiveHint', 'idempotentHint']) {
      assert.equal(typeof t.annotations[h], 'boolean', `${t.name} ${h}`);
    }
    assert.equal(t.annotations.openWorldHint, false, t.name);
  }
});

const ns = `sdk-${process.pid}`;
const table = `sdk_${process.pid}`;
const calls = {
  health: [async () => { const h = await valid('health', {}); assert.equal(h.status, 'ok'); },
    // health takes no input (like GET /health, it ignores what it does not
    // know): the one invalid call is arguments that are not an object, an
    // isError result from 2025-11-25 on.
    () => invalid('health', [1], 'validation_failed', 'arguments')],
  document_put: [async () => {
    const d = await valid('document_put', { namespace: ns, key: 'k1', payload: { a: [1, 2], s: "quote ' and \\" } });
    assert.equal(d.version, 1);
  }, () => invalid('document_put', { namespace: 'bad ns', key: 'k', payload: 1 }, 'validation_failed', 'namespace')],
  document_get: [async () => {
    const d = await valid('document_get', { namespace: ns, key: 'k1' });
    assert.deepEqual(d.payload, { a: [1, 2], s: "quote ' and \\" });
  }, () => invalid('document_get', { namespace: ns, key: 'missing' }, 'not_found', 'key')],
  document_list: [async () => {
    const l = await valid('document_list', { namespace: ns, limit: 10 });
    assert.equal(l.items.length, 1);
  }, () => invalid('document_list', { namespace: ns, limit: 1001 }, 'validation_failed', 'limit')],
  document_changes: [async () => {
    const c = await valid('document_changes', { namespace: ns, include_payload: 'true' });
    assert.equal(c.items.length, 1);
    assert.equal(c.items[0].key, 'k1');
    assert.equal(c.next, String(c.items[0].seq));
  }, () => invalid('document_changes', { namespace: ns, wait_seconds: 61 }, 'validation_failed', 'wait_seconds')],
  document_delete: [async () => {
    const d = await valid('document_delete', { namespace: ns, key: 'k1' });
    assert.equal(d.deleted, true);
  }, () => invalid('document_delete', { namespace: ns }, 'validation_failed', 'key')],
  document_namespaces: [async () => {
    const l = await valid('document_namespaces', { limit: 1000 });
    assert.ok(l.items.some((n) => n.namespace === ns));
  }, () => invalid('document_namespaces', { limit: 0 }, 'validation_failed', 'limit')],
  document_retention_put: [async () => {
    const r = await valid('document_retention_put', { namespace: ns, keep_versions: 10 });
    assert.equal(r.keep_versions, 10);
  }, () => invalid('document_retention_put', { namespace: ns, keep_versions: 0 }, 'validation_failed', 'keep_versions')],
  document_retention_get: [async () => {
    const r = await valid('document_retention_get', { namespace: ns });
    assert.equal(r.keep_versions, 10);
  }, () => invalid('document_retention_get', { namespace: 'bad ns' }, 'validation_failed', 'namespace')],
  queue_enqueue: [async () => { await valid('queue_enqueue', { namespace: ns, payload: { job: 1 } }); },
    () => invalid('queue_enqueue', { namespace: ns, payload: 1, max_attempts: 0 }, 'validation_failed', 'max_attempts')],
  queue_claim: [async () => {
    const c = await valid('queue_claim', { namespace: ns, max: 1 });
    assert.equal(c.items.length, 1);
    calls.claimed = c.items[0];
  }, () => invalid('queue_claim', { namespace: ns, max: 1001 }, 'validation_failed', 'max')],
  queue_ack: [async () => {
    const a = await valid('queue_ack', { namespace: ns, id: calls.claimed.id, claim_token: calls.claimed.claim_token });
    assert.equal(a.acked, true);
  }, () => invalid('queue_ack', { namespace: ns, id: 999999999 }, 'not_found')],
  queue_ack_many: [async () => {
    await valid('queue_enqueue', { namespace: ns, payload: { job: 2 }, priority: 1000, dedup_key: 'k', group: 'g' });
    const c = await valid('queue_claim', { namespace: ns, max: 1 });
    const [item] = c.items;
    assert.equal(item.priority, 1000);
    const a = await valid('queue_ack_many', { namespace: ns, items: [{ id: item.id, claim_token: item.claim_token },
      { id: 999999999, claim_token: item.claim_token }] });
    assert.deepEqual(a.items, [{ id: item.id, acked: true }, { id: 999999999, error: 'not_found' }]);
  }, () => invalid('queue_ack_many', { namespace: ns, items: [] }, 'validation_failed', 'items')],
  queue_pause: [async () => {
    const p = await valid('queue_pause', { namespace: ns });
    assert.equal(p.paused, true);
  }, () => invalid('queue_pause', { namespace: 'bad ns' }, 'validation_failed', 'namespace')],
  queue_resume: [async () => {
    const p = await valid('queue_resume', { namespace: ns });
    assert.equal(p.paused, false);
  }, () => invalid('queue_resume', { namespace: 'bad ns' }, 'validation_failed', 'namespace')],
  queue_stats: [async () => {
    const st = await valid('queue_stats', { namespace: ns });
    assert.equal(st.namespace, ns);
    assert.equal(st.paused, false);
  }, () => invalid('queue_stats', { namespace: 'bad ns' }, 'validation_failed', 'namespace')],
  queue_release: [async () => {
    await valid('queue_enqueue', { namespace: ns, payload: { job: 3 } });
    const [item] = (await valid('queue_claim', { namespace: ns, max: 1 })).items;
    const r = await valid('queue_release', { namespace: ns, id: item.id, claim_token: item.claim_token, delay_seconds: 0 });
    assert.equal(r.released, true);
  }, () => invalid('queue_release', { namespace: ns, id: 1, claim_token: 'nope' }, 'validation_failed', 'claim_token')],
  queue_extend: [async () => {
    const [item] = (await valid('queue_claim', { namespace: ns, max: 1 })).items;
    const e = await valid('queue_extend', { namespace: ns, id: item.id, claim_token: item.claim_token, visibility_timeout_seconds: 60 });
    assert.equal(e.claim_token, item.claim_token);
  }, () => invalid('queue_extend', { namespace: ns, id: 1, claim_token: '0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b', visibility_timeout_seconds: 0 },
    'validation_failed', 'visibility_timeout_seconds')],
  queue_dead_list: [async () => {
    // A released final attempt is dead at once.
    await valid('queue_enqueue', { namespace: `${ns}-dead`, payload: { job: 4 }, max_attempts: 1 });
    const [item] = (await valid('queue_claim', { namespace: `${ns}-dead`, max: 1 })).items;
    await valid('queue_release', { namespace: `${ns}-dead`, id: item.id, claim_token: item.claim_token });
    const d = await valid('queue_dead_list', { namespace: `${ns}-dead` });
    assert.deepEqual(d.items.map((i) => i.id), [item.id]);
    calls.dead = item;
  }, () => invalid('queue_dead_list', { namespace: ns, limit: 0 }, 'validation_failed', 'limit')],
  queue_dead_retry: [async () => {
    const r = await valid('queue_dead_retry', { namespace: `${ns}-dead`, id: calls.dead.id });
    assert.equal(r.attempts, 0);
  }, () => invalid('queue_dead_retry', { namespace: ns, id: 999999999 }, 'not_found')],
  sql_create_table: [async () => {
    const t = await valid('sql_create_table', { name: table, columns: [{ name: 'n', type: 'numeric' },
      { name: 's', type: 'text', nullable: false }] });
    assert.equal(t.table, `sql_${table}`);
  }, () => invalid('sql_create_table', { name: 'X', columns: [{ name: 'a', type: 'text' }] }, 'validation_failed', 'name')],
  sql_list_tables: [async () => {
    const l = await valid('sql_list_tables', { limit: 1000 });
    assert.ok(l.items.some((t) => t.name === table));
  }, () => invalid('sql_list_tables', { limit: 0 }, 'validation_failed', 'limit')],
  sql_insert_rows: [async () => {
    const r = await valid('sql_insert_rows', { name: table, rows: [{ n: '123456789012345678901234567890', s: 'a' }] });
    assert.equal(r.items[0].n, '123456789012345678901234567890');
  }, () => invalid('sql_insert_rows', { name: table, rows: { s: null } }, 'validation_failed', 's')],
  sql_select_rows: [async () => {
    const r = await valid('sql_select_rows', { name: table, where: { s: 'a' }, order: 'desc' });
    assert.equal(r.items.length, 1);
  }, () => invalid('sql_select_rows', { name: table, order: 'sideways' }, 'validation_failed', 'order')],
  sql_update_rows: [async () => {
    const r = await valid('sql_update_rows', { name: table, where: { s: 'eq.a' }, set: { s: 'a' } });
    assert.equal(r.count, 1);
  }, () => invalid('sql_update_rows', { name: table, set: { s: 'b' } }, 'validation_failed', 'where')],
  sql_delete_rows: [async () => {
    const r = await valid('sql_delete_rows', { name: table, where: { s: 'eq.nosuch' } });
    assert.equal(r.count, 0);
  }, () => invalid('sql_delete_rows', { name: table, where: { s: 'a' }, max_affected: -1 }, 'validation_failed', 'max_affected')],
  sql_alter_table: [async () => {
    const r = await valid('sql_alter_table', { name: table, column: 'extra', type: 'integer', default: 1 });
    assert.equal(r.columns.at(-1).name, 'extra');
    await valid('sql_alter_table', { name: table, drop: 'extra' });
  }, () => invalid('sql_alter_table', { name: table, column: 'x', type: 'money' }, 'validation_failed', 'type')],
  sql_drop_table: [async () => {
    await valid('sql_create_table', { name: `${table}_drop`, columns: [{ name: 'a', type: 'text' }] });
    const r = await valid('sql_drop_table', { name: `${table}_drop`, confirm: `${table}_drop` });
    assert.equal(r.dropped, true);
  }, () => invalid('sql_drop_table', { name: table }, 'validation_failed', 'confirm')],
  file_write_temp: [async () => {
    const f = await valid('file_write_temp', { content: 'aGVsbG8=', encoding: 'base64' });
    assert.equal(f.size, 5);
    assert.equal(f.sha256, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  }, () => invalid('file_write_temp', { content: '%%%%', encoding: 'base64' }, 'validation_failed', 'content')],
};
await check('every tool has its calls here', async () => {
  assert.deepEqual(expected.filter((t) => !calls[t]), []);
});
// In the order of calls (a claim before its ack).
for (const tool of Object.keys(calls).filter((t) => expected.includes(t))) {
  await check(`${tool} with valid input`, calls[tool][0]);
  await check(`${tool} with invalid input`, calls[tool][1]);
}
await check('an unknown tool is a JSON-RPC error -32602', async () => {
  await assert.rejects(client.callTool({ name: 'nope', arguments: {} }), (e) => {
    assert.ok(e.code === -32602 || /-32602/.test(e.message), `${e.code} ${e.message}`);
    return true;
  });
});
await client.close();
console.log(`sdk-client: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
process.exit(failed === 0 ? 0 : 1);
