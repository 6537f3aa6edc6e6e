-- Up Migration
-- A cart has one currency, fixed at creation: totals never mix currencies.
CREATE TABLE carts (
  id uuid PRIMARY KEY,
  customer_email text NOT NULL,
  customer_name text NOT NULL,
  currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'checked_out')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One line per ticket type; adding the same type again raises its quantity.
CREATE TABLE cart_items (
  cart_id uuid NOT NULL REFERENCES carts (id),
  ticket_type_id uuid NOT NULL REFERENCES ticket_types (id),
  quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
  unit_price_minor integer NOT NULL CHECK (unit_price_minor >= 0),
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cart_id, ticket_type_id)
);

-- UNIQUE (cart_id): a cart becomes at most one order, even if two checkouts race.
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  cart_id uuid NOT NULL UNIQUE REFERENCES carts (id),
  total_minor bigint NOT NULL CHECK (total_minor >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE orders;
DROP TABLE cart_items;
DROP TABLE carts;
