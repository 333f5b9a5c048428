'use strict';
// Payments: a declined card (a class without an "Error" suffix) and an async gateway failure.

class PaymentDeclined extends Error {
  constructor(message) {
    super(message);
    this.name = 'PaymentDeclined';
  }
}

class GatewayTimeout extends Error {
  constructor(message) {
    super(message);
    this.name = 'GatewayTimeout';
  }
}

function charge(card, amount) {
  if (card.endsWith('2')) {
    throw new PaymentDeclined(`card ${card} declined for amount ${amount}`);
  }
}

async function capture(paymentId, ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  throw new GatewayTimeout(`capture of ${paymentId} timed out after ${ms} ms`);
}

module.exports = { PaymentDeclined, GatewayTimeout, charge, capture };
