-- Up Migration
-- The catalog the API sells from. Prices are integer minor units: floats cannot hold money exactly.
CREATE TABLE events (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  venue text NOT NULL,
  starts_at timestamptz NOT NULL
);

CREATE TABLE ticket_types (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES events (id),
  name text NOT NULL,
  price_minor integer NOT NULL CHECK (price_minor >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  UNIQUE (event_id, name)
);

-- Fixed ids, so that the README's curl examples work on every fresh database.
INSERT INTO events (id, name, venue, starts_at) VALUES
  ('e1000000-0000-4000-8000-000000000001', 'Spring Jazz Night', 'Paradiso, Amsterdam', '2027-04-17T19:30:00Z'),
  ('e1000000-0000-4000-8000-000000000002', 'Chamber Music Matinee', 'Muziekgebouw, Amsterdam', '2027-05-09T13:00:00Z'),
  ('e1000000-0000-4000-8000-000000000003', 'Open Air Film Festival', 'Westerpark, Amsterdam', '2027-07-23T20:00:00Z');

INSERT INTO ticket_types (id, event_id, name, price_minor, currency) VALUES
  ('a1000000-0000-4000-8000-000000000001', 'e1000000-0000-4000-8000-000000000001', 'Standing', 4500, 'EUR'),
  ('a1000000-0000-4000-8000-000000000002', 'e1000000-0000-4000-8000-000000000001', 'Balcony seat', 6500, 'EUR'),
  ('a1000000-0000-4000-8000-000000000003', 'e1000000-0000-4000-8000-000000000002', 'Regular', 2800, 'EUR'),
  ('a1000000-0000-4000-8000-000000000004', 'e1000000-0000-4000-8000-000000000002', 'Student', 1500, 'EUR'),
  ('a1000000-0000-4000-8000-000000000005', 'e1000000-0000-4000-8000-000000000003', 'Day pass', 1900, 'EUR'),
  ('a1000000-0000-4000-8000-000000000006', 'e1000000-0000-4000-8000-000000000003', 'Weekend pass', 4900, 'EUR');

-- Down Migration
DROP TABLE ticket_types;
DROP TABLE events;
