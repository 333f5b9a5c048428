'use strict';
// Request handlers: what the service runs per request, calling into the shop's modules and libraries.

const JSON5 = require('json5');
const payments = require('./payments');
const orders = require('./orders');
const reports = require('./reports');

function checkout(body) {
  const data = JSON.parse(body);
  payments.charge(data.card, data.amount);
}

function retryPayment(card, amount) {
  payments.charge(card, amount);
}

function importSettings(text) {
  return JSON5.parse(text);
}

function redirect(target) {
  return new URL(target).pathname;
}

function owner(orderId) {
  return orders.ownerOf(orderId);
}

function reserve(sku, quantity) {
  return orders.reserve(sku, quantity);
}

function report(day) {
  return reports.load(day);
}

function total(value, digits) {
  return reports.format(value, digits);
}

async function capture(paymentId, ms) {
  await payments.capture(paymentId, ms);
}

module.exports = { checkout, retryPayment, importSettings, redirect, owner, reserve, report, total, capture };
