-- Up Migration
-- A cart's version grows with every change to the cart or its lines. A command reads the cart
-- and its lines without a lock, works out the change and its notification, and writes both in
-- one statement that applies only while the version is still the one it read: two round trips
-- and no transaction held open between them. A command that lost a race reads again.
ALTER TABLE carts ADD COLUMN version integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE carts DROP COLUMN version;
