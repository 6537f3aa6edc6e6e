-- Up Migration
-- An event's name and a ticket type's name travel in every notification about them, where the
-- message schema (shared/src/contract/notification-message.ts) takes one line of text, trimmed,
-- not empty, at most 200 (eventName) and 100 (ticketType) UTF-16 code units. A catalog row past
-- those bounds made every add of its tickets fail with a 500; the database now refuses such a row
-- when it is written, naming the constraint. NOT VALID: rows already there are not checked (the
-- migration of a catalog holding one would fail); such a row still fails its adds, logged with the
-- field the message schema refused.

-- Whether a text fits where a message carries it, as the schema counts: trimmed of what
-- JavaScript's trim() removes, then in UTF-16 code units; no control character anywhere.
CREATE FUNCTION message_text_fits(value text, max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (
  WITH trimmed AS (
    SELECT regexp_replace(
      value,
      '^[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
      '', 'g') AS text
  )
  -- A character past U+FFFF is two UTF-16 code units: one more for each left when the BMP is removed.
  SELECT text <> ''
     AND char_length(text) + char_length(regexp_replace(text, '[\u0001-\uffff]', '', 'g')) <= max_length
     AND value !~ '[\u0001-\u001f\u007f]'
  FROM trimmed
);

ALTER TABLE events ADD CONSTRAINT events_name_fits_messages
  CHECK (message_text_fits(name, 200)) NOT VALID;
ALTER TABLE ticket_types ADD CONSTRAINT ticket_types_name_fits_messages
  CHECK (message_text_fits(name, 100)) NOT VALID;

-- Down Migration
ALTER TABLE ticket_types DROP CONSTRAINT ticket_types_name_fits_messages;
ALTER TABLE events DROP CONSTRAINT events_name_fits_messages;
DROP FUNCTION message_text_fits(text, integer);
