-- Up Migration
-- Which claim holds an in_progress row: each delivery claims with a token of its own, and its
-- settlement, lease renewal and release change the row only while the token is still its. A handler
-- whose lease lapsed (a long pause) and whose row another delivery took over must not write the
-- outcome over the new holder's. Rows claimed before this column existed keep NULL until claimed
-- again; no default, so that adding it rewrites nothing.
ALTER TABLE notifications ADD COLUMN claim_token uuid;

-- Down Migration
