import type pg from 'pg';

/**
 * Stands for any schema-valid data PostgreSQL refuses (a constraint, a trigger, an encoding): after
 * this, inserting a notification whose recipient name starts with the prefix fails with SQLSTATE
 * 22023, as a poison message would.
 */
export const REFUSED_NAME_PREFIX = 'Refused by the database';

export async function installRefusingTrigger(db: Pick<pg.Pool, 'query'>): Promise<void> {
  await db.query(`
    CREATE FUNCTION notifications.refuse_marked_names() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.recipient_name LIKE '${REFUSED_NAME_PREFIX}%' THEN
        RAISE EXCEPTION 'recipient name % is not allowed here', NEW.recipient_name USING ERRCODE = '22023';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_marked_names BEFORE INSERT ON notifications.notifications
      FOR EACH ROW EXECUTE FUNCTION notifications.refuse_marked_names();`);
}
