ALTER TABLE "sync_sessions" ADD COLUMN "total_estimate" integer;--> statement-breakpoint
-- Wakes every instance's outbox relay once per transaction that wrote events: NOTIFY is delivered at commit
-- (never for a rollback), and PostgreSQL folds a transaction's identical notifications into one.
CREATE OR REPLACE FUNCTION outbox_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_events', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER outbox_events_notify
  AFTER INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify();
