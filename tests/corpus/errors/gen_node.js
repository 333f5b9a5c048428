'use strict';
// Node.js exceptions raised by a real program (node/shop) and logged by pino and winston, two releases.
//
// Run with NODE_PATH holding pino, winston and json5 (see README.md). Release 1 is the shop as
// committed, installed under one root and logged with pino (err serializer: type, message, stack);
// release 2 is the same code with lines shifted (comment blocks and blank lines inserted), installed
// under another root and logged with winston (errors({stack: true}) + json). Each request runs one
// scenario with random ids; the scenario's raising site is the line's root cause, written to
// node.truth by this driver (never read back from the log).

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const HERE = __dirname;
const REQUESTS_PER_RELEASE = 300;

const SCENARIOS = {
  checkout_declined: 'js:payments.charge',
  retry_declined: 'js:payments.charge',
  checkout_bad_json: 'js:api.checkout/json',
  import_settings: 'js:api.importSettings',
  redirect: 'js:api.redirect',
  owner: 'js:orders.ownerOf',
  reserve: 'js:orders.reserve',
  report: 'js:reports.load',
  total: 'js:reports.format',
  capture: 'js:payments.capture',
};

// A small seeded generator (mulberry32), so a run is reproducible.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randint(rng, lo, hi) {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function shiftLines(source, release, rng) {
  if (release === 1) return source;
  const out = [];
  for (let i = randint(rng, 3, 9); i > 0; i--) out.push(`// release ${release}: reformatted`);
  for (const line of source.split('\n')) {
    if (/^\s*(async function|function|class) /.test(line)) {
      for (let i = randint(rng, 1, 4); i > 0; i--) out.push('');
    }
    out.push(line);
  }
  return out.join('\n');
}

function install(root, release, rng) {
  const target = path.join(root, 'shop');
  fs.mkdirSync(target, { recursive: true });
  for (const name of fs.readdirSync(path.join(HERE, 'node', 'shop')).sort()) {
    const source = fs.readFileSync(path.join(HERE, 'node', 'shop', name), 'utf8');
    fs.writeFileSync(path.join(target, name), shiftLines(source, release, rng));
  }
}

function action(api, scenario, rng) {
  const card = `4${randint(rng, 1e13, 1e14 - 1)}2`;
  const orderId = `o-${randint(rng, 1, 99999)}`;
  const actions = {
    checkout_declined: () => api.checkout(JSON.stringify({ card, amount: randint(rng, 1, 900) })),
    retry_declined: () => api.retryPayment(card, randint(rng, 1, 900)),
    checkout_bad_json: () => api.checkout(`{"card": "${card}", amount: ${randint(rng, 1, 9)}`),
    import_settings: () => api.importSettings(`{retries: ${randint(rng, 1, 9)}, mode: fast`),
    redirect: () => api.redirect(`not a url ${randint(rng, 1, 999)}`),
    owner: () => api.owner(orderId),
    reserve: () => api.reserve(`sku-${randint(rng, 100, 999)}`, randint(rng, 2, 9)),
    report: () => api.report(`2026-11-${String(randint(rng, 1, 28)).padStart(2, '0')}`),
    total: () => api.total(randint(rng, 1, 9999) / 100, randint(rng, 101, 200)),
    capture: () => api.capture(`p-${randint(rng, 1000, 9999)}`, randint(rng, 1, 3)),
  };
  return actions[scenario];
}

function logger(release) {
  if (release === 1) {
    const log = require('pino')();
    return { error: (err, fields) => log.error({ err, ...fields }, 'request failed') };
  }
  const winston = require('winston');
  const log = winston.createLogger({
    level: 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      winston.format.json()
    ),
    transports: [new winston.transports.Console()],
  });
  return { error: (err, fields) => log.error('request failed', Object.assign(err, fields)) };
}

async function runRequests(root, release, seed) {
  const api = require(path.join(root, 'shop', 'api.js'));
  const log = logger(release);
  const rng = random(seed);
  const scenarios = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
  for (const scenario of scenarios) {
    try {
      await action(api, scenario, rng)();
    } catch (err) {
      log.error(err, { service: 'shop-js', userId: `u-${randint(rng, 1, 40)}` });
      continue;
    }
    throw new Error(`scenario ${scenario} did not fail`);
  }
}

function main() {
  if (process.argv[2] === '--run') {
    runRequests(process.argv[3], Number(process.argv[4]), Number(process.argv[5])).catch((err) => {
      process.stderr.write(String(err.stack) + '\n');
      process.exit(1);
    });
    return;
  }
  const rng = random(19);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errors-node-'));
  const lines = [];
  const truth = [];
  const names = Object.keys(SCENARIOS).sort();
  for (const [release, root] of [[1, path.join(tmp, 'app')], [2, path.join(tmp, 'srv', 'releases', 'shop-2')]]) {
    install(root, release, rng);
    const scenarios = [];
    for (let i = 0; i < REQUESTS_PER_RELEASE; i++) scenarios.push(names[randint(rng, 0, names.length - 1)]);
    const done = childProcess.spawnSync(
      process.execPath,
      [__filename, '--run', root, String(release), String(randint(rng, 0, 1e6))],
      { input: scenarios.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 }
    );
    if (done.status !== 0) throw new Error(done.stderr);
    const out = done.stdout.split('\n').filter(Boolean);
    if (out.length !== scenarios.length) throw new Error(`${out.length} lines for ${scenarios.length} requests`);
    lines.push(...out);
    truth.push(...scenarios.map((s) => SCENARIOS[s]));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.writeFileSync(path.join(HERE, 'node.log'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(HERE, 'node.truth'), truth.join('\n') + '\n');
}

main();
