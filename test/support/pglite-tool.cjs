// PGlite outside jest: PGlite loads parts of itself with a dynamic import(), which jest's module
// sandbox refuses (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG). Tests run this with plain node,
// on the built store (dist/, from `npm run build`).
//   node pglite-tool.cjs init <dataDir>                     create the database and the schema
//   node pglite-tool.cjs seed <dataDir> <batch.json> [nowMs] write a HistoryBatch, fold the rollups
const path = require('node:path');
const { readFileSync } = require('node:fs');

const lib = path.resolve(__dirname, '../../dist/libs/history/src/index.js');
const { PgliteSqlClient, HistoryStore, DAY_MS } = require(lib);

async function main() {
  const [cmd, dir, file, now] = process.argv.slice(2);
  const db = await PgliteSqlClient.open(dir);
  try {
    const store = await HistoryStore.open(db, { maxFutureMs: 400 * DAY_MS });
    if (cmd === 'seed') {
      const batch = JSON.parse(readFileSync(file, 'utf8'));
      const res = await store.writer.write(batch, now ? Number(now) : Date.now());
      await store.rollups.drain();
      process.stdout.write(JSON.stringify(res));
    } else if (cmd !== 'init') {
      throw new Error(`unknown command ${cmd}`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
