'use strict';
// Orders: a property of undefined, an error class that never set its name.

const ORDERS = new Map();

class InventoryError extends Error {}

function ownerOf(orderId) {
  const order = ORDERS.get(orderId);
  return order.owner.id;
}

function reserve(sku, quantity) {
  throw new InventoryError(`sku ${sku} has fewer than ${quantity} items`);
}

module.exports = { ORDERS, InventoryError, ownerOf, reserve };
