// Write the Node loggers' corpus with the real libraries: winston 3, pino 10, pino-http 11.
//
// Run: see ../README.md. The clock (Date, Date.now) is set to each scenario step's time, so the
// logged times are known; next to each <name>.log goes <name>.expected.ndjson: what each line means,
// computed from the values handed to the logger, never read back from the logged text.
'use strict'

const LOCAL_ZONE = 'Europe/Berlin' // winston's 'YYYY-MM-DD HH:mm:ss:SSS' is local time without offset
process.env.TZ = LOCAL_ZONE

const fs = require('fs')
const http = require('http')
const path = require('path')

const OUT = path.resolve(__dirname, '..')
const SCENARIO = JSON.parse(fs.readFileSync(path.join(OUT, 'scenario.json'), 'utf8'))
const START = Date.parse(SCENARIO.start)

let fakeNow = START
const RealDate = Date
class ClockDate extends RealDate {
  constructor (...args) {
    if (args.length === 0) super(fakeNow)
    else super(...args)
  }

  static now () { return fakeNow }
}
global.Date = ClockDate

const winston = require('winston')
const pino = require('pino')
const pinoHttp = require('pino-http')

class PaymentError extends Error {
  constructor (message) {
    super(message)
    this.name = 'PaymentError'
  }
}

function chargeCard (message) { throw new PaymentError(message) }
function caught (message) {
  try { chargeCard(message) } catch (err) { return err }
}

const stepTime = (index) => START + index * SCENARIO.step_ms
const utcText = (millis) => new RealDate(millis).toISOString()
const target = (step) => step.path + (step.query ? `?${step.query}` : '')
const requestLevel = (status) => status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'
const nodeSteps = () => SCENARIO.steps.map((step, index) => [index, step]).filter(([, s]) => s.kind !== 'panic')

function splitRemote (remote) {
  const colon = remote.lastIndexOf(':')
  return [remote.slice(0, colon).replace(/^\[|\]$/g, ''), Number(remote.slice(colon + 1))]
}

// What the stored event must say; `over` holds what this logger adds or says differently.
function expected (step, index, line, over = {}) {
  const out = { line, step: index, '@timestamp': utcText(stepTime(index)) }
  const tags = []
  let level
  if (step.kind === 'request') {
    level = requestLevel(step.status)
    const [ip, port] = splitRemote(step.remote_addr)
    const durationNs = step.duration_us * 1000
    tags.push('http')
    if (durationNs > 1e9) tags.push('slow_request')
    Object.assign(out, {
      message: 'request',
      'http.request.method': step.method,
      'url.path': step.path,
      'http.response.status_code': step.status,
      'event.duration': durationNs,
      endpoint: step.endpoint,
      'user.id': step.user_id,
      'client.ip': ip,
      'client.port': port,
      'error.type': null,
      'error.stack_trace': null
    })
  } else if (step.kind === 'error') {
    level = 'error'
    Object.assign(out, {
      message: step.message,
      'error.type': step.error_type,
      'error.message': step.error_message,
      'error.stack_trace': { contains: ['chargeCard', step.error_message, step.error_type] },
      'user.id': step.user_id,
      'http.request.method': null
    })
  } else {
    level = step.kind === 'warn' ? 'warn' : 'info'
    Object.assign(out, {
      message: step.stored_message || step.message,
      'error.type': null,
      'error.message': null,
      'error.stack_trace': null,
      'http.request.method': null
    })
  }
  if (level === 'error') tags.push('error')
  out['log.level'] = level
  out.tags = tags.sort()
  Object.assign(out, over)
  if (over.tags) out.tags = [...over.tags].sort()
  return out
}

function writeExpected (name, rows, library, timezone = 'UTC') {
  const { version } = require(`${library}/package.json`)
  const meta = { library, version, timezone }
  const lines = [JSON.stringify({ meta }), ...rows.map((row) => JSON.stringify(sortKeys(row)))]
  fs.writeFileSync(path.join(OUT, `${name}.expected.ndjson`), lines.join('\n') + '\n')
}

function sortKeys (row) {
  return Object.fromEntries(Object.keys(row).sort().map((key) => [key, row[key]]))
}

function finished (logger, stream) {
  return new Promise((resolve) => {
    stream.on('finish', resolve)
    logger.on('finish', () => stream.end())
    logger.end()
  })
}

// winston: errors({stack: true}) + timestamp + json, as its README shows.
async function genWinston (name, timestampFormat, timezone) {
  const stream = fs.createWriteStream(path.join(OUT, `${name}.log`))
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      timestampFormat ? winston.format.timestamp({ format: timestampFormat }) : winston.format.timestamp(),
      winston.format.json()
    ),
    transports: [new winston.transports.Stream({ stream })]
  })
  const rows = []
  for (const [line, [index, step]] of nodeSteps().entries()) {
    fakeNow = stepTime(index)
    let over = {}
    if (step.kind === 'request') {
      const [ip] = splitRemote(step.remote_addr)
      logger.log(requestLevel(step.status), 'request', {
        method: step.method,
        url: target(step),
        status: step.status,
        responseTime: step.duration_us / 1000,
        userId: step.user_id || undefined,
        ip
      })
      over = { 'client.port': null }
    } else if (step.kind === 'error') {
      const err = caught(step.error_message)
      if (timestampFormat) {
        // A child logger with the user and the error itself: message is the error's message.
        logger.child({ userId: step.user_id }).error(err)
        over = { message: step.error_message }
      } else {
        // message plus error: winston appends the error's message to the message.
        logger.error(step.message, err)
        over = { message: `${step.message} ${step.error_message}`, 'user.id': null }
      }
    } else {
      logger.log(step.kind === 'warn' ? 'warn' : 'info', step.message)
    }
    rows.push(expected(step, index, line, over))
  }
  await finished(logger, stream)
  writeExpected(name, rows, 'winston', timezone)
}

// pino: plain application lines; request lines as an app writes them by hand.
function genPino () {
  const name = 'pino'
  const logger = pino({}, pino.destination({ dest: path.join(OUT, `${name}.log`), sync: true }))
  const rows = []
  for (const [line, [index, step]] of nodeSteps().entries()) {
    fakeNow = stepTime(index)
    if (step.kind === 'request') {
      const fields = {
        method: step.method,
        url: target(step),
        statusCode: step.status,
        responseTime: step.duration_us / 1000,
        remote_addr: step.remote_addr
      }
      if (step.user_id) fields.userId = step.user_id
      logger[requestLevel(step.status)](fields, 'request')
    } else if (step.kind === 'error') {
      logger.error({ err: caught(step.error_message), userId: step.user_id }, step.message)
    } else {
      logger[step.kind === 'warn' ? 'warn' : 'info'](step.message)
    }
    rows.push(expected(step, index, line))
  }
  writeExpected(name, rows, 'pino')
}

// pino-http: real requests to a real server on loopback; the clock is moved between the request's
// start and its end so responseTime is the step's duration (pino-http measures whole milliseconds).
async function genPinoHttp () {
  const name = 'pino-http'
  const destination = pino.destination({ dest: path.join(OUT, `${name}.log`), sync: true })
  const httpLogger = pinoHttp({
    logger: pino({}, destination),
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customProps: (req) => (req.headers['x-user-id'] ? { userId: req.headers['x-user-id'] } : {})
  })
  let current = null
  const server = http.createServer((req, res) => {
    httpLogger(req, res)
    res.statusCode = current.status
    fakeNow = current.finish
    res.end('ok')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const rows = []
  const requests = SCENARIO.steps.map((step, index) => [index, step]).filter(([, s]) => s.kind === 'request')
  for (const [line, [index, step]] of requests.entries()) {
    const millis = Math.max(1, Math.round(step.duration_us / 1000))
    current = { status: step.status, finish: stepTime(index) }
    fakeNow = stepTime(index) - millis
    const localPort = await new Promise((resolve, reject) => {
      const headers = step.user_id ? { 'x-user-id': step.user_id } : {}
      const req = http.request({ host: '127.0.0.1', port, method: step.method, path: target(step), headers }, (res) => {
        res.resume()
        res.on('end', () => resolve(req.socket.localPort))
      })
      req.on('error', reject)
      req.end()
    })
    const failed = step.status >= 500
    const durationNs = millis * 1e6
    const over = {
      message: failed ? 'request errored' : 'request completed',
      'event.duration': durationNs,
      'client.ip': '127.0.0.1',
      'client.port': localPort,
      tags: ['http', ...(durationNs > 1e9 ? ['slow_request'] : []), ...(failed ? ['error'] : [])]
    }
    if (failed) {
      const text = `failed with status code ${step.status}`
      Object.assign(over, { 'error.type': 'Error', 'error.message': text, 'error.stack_trace': { contains: [text] } })
    }
    rows.push(expected(step, index, line, over))
  }
  await new Promise((resolve) => server.close(resolve))
  writeExpected(name, rows, 'pino-http')
}

async function main () {
  await genWinston('winston-iso', null, 'UTC')
  await genWinston('winston-local', 'YYYY-MM-DD HH:mm:ss:SSS', LOCAL_ZONE)
  genPino()
  await genPinoHttp()
  process.stdout.write('wrote winston, pino and pino-http corpora\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
