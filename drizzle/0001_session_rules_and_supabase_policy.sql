-- A sync session only moves forward: pending -> running -> completed | failed (or pending -> failed when
-- it never got to start). New sessions start as pending.
CREATE OR REPLACE FUNCTION sync_sessions_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status IS DISTINCT FROM 'pending' THEN
      RAISE EXCEPTION 'a new sync session must be pending, not %', NEW.status USING ERRCODE = 'check_violation';
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NOT (
    (OLD.status = 'pending' AND NEW.status IN ('running', 'failed'))
    OR (OLD.status = 'running' AND NEW.status IN ('completed', 'failed'))
  ) THEN
    RAISE EXCEPTION 'sync session % cannot go from % to %', OLD.session_id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER sync_sessions_status_transition
  BEFORE INSERT OR UPDATE OF status ON sync_sessions
  FOR EACH ROW EXECUTE FUNCTION sync_sessions_check_transition();
--> statement-breakpoint
-- The seed's per-user policy needs Supabase's auth.uid(); on plain PostgreSQL it is skipped, and RLS with
-- the owner-only policies denies every other role.
DO $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'auth' AND p.proname = 'uid'
  ) THEN
    EXECUTE 'CREATE POLICY "Users can view their own data" ON contacts FOR SELECT USING (auth.uid() = supabase_id)';
  END IF;
END
$$;
