import { insertCart } from '../db/cart-repository.js';
import { type Cart, type Customer, toCart } from './cart.js';
import { newId } from './new-id.js';
import type { CommandContext } from './notifications.js';

export async function createCart({ client, carts, afterCommit }: CommandContext, customer: Customer): Promise<Cart> {
  const row = await insertCart(client, {
    cartId: newId(),
    customerEmail: customer.email,
    customerName: customer.name,
  });
  afterCommit(() => carts.rememberCart({ cart: row, items: [] }));
  return toCart(row, []);
}
