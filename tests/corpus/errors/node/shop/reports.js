'use strict';
// Reports: a file that is not there (Node's fs), a number formatted with too many digits.

const fs = require('fs');
const path = require('path');

function load(day) {
  return fs.readFileSync(path.join('/nonexistent/reports', `${day}.json`), 'utf8');
}

function format(value, digits) {
  return value.toFixed(digits);
}

module.exports = { load, format };
