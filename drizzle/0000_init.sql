CREATE TABLE "hubspot_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"access_token" text NOT NULL,
	"refresh_token" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"updated_at" timestamp with time zone DEFAULT now(),
	"portal_id" bigint,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text DEFAULT 'connected' NOT NULL,
	"last_error" text,
	"refreshed_at" timestamp with time zone,
	CONSTRAINT "unique_hubspot_connection" UNIQUE("id"),
	CONSTRAINT "hubspot_connections_status_check" CHECK ("hubspot_connections"."status" IN ('connecting', 'connected', 'error'))
);
--> statement-breakpoint
ALTER TABLE "hubspot_connections" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "contact_property_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"hubspot_id" text NOT NULL,
	"property_name" text NOT NULL,
	"value" text,
	"occurred_at" bigint NOT NULL,
	"source" text NOT NULL,
	"source_id" text,
	"applied" boolean DEFAULT true NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contact_property_history_source_check" CHECK ("contact_property_history"."source" IN ('webhook', 'sweep', 'fetch'))
);
--> statement-breakpoint
ALTER TABLE "contact_property_history" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"hubspot_id" text NOT NULL,
	"supabase_id" uuid,
	"data" jsonb NOT NULL,
	"last_sync" timestamp with time zone NOT NULL,
	"sync_status" text,
	"created_at" timestamp with time zone DEFAULT now(),
	"updated_at" timestamp with time zone DEFAULT now(),
	"property_versions" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"archived_at" timestamp with time zone,
	"merged_into" text,
	"lifecycle_version" bigint DEFAULT 0 NOT NULL,
	"erased_at" timestamp with time zone,
	"hubspot_created_at" timestamp with time zone,
	"hubspot_updated_at" timestamp with time zone,
	CONSTRAINT "unique_hubspot_contact" UNIQUE("hubspot_id"),
	CONSTRAINT "contacts_sync_status_check" CHECK ("contacts"."sync_status" IN ('synced', 'pending', 'error')),
	CONSTRAINT "contacts_data_is_object" CHECK (jsonb_typeof("contacts"."data") = 'object')
);
--> statement-breakpoint
ALTER TABLE "contacts" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "webhook_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"portal_id" bigint NOT NULL,
	"subscription_id" bigint NOT NULL,
	"event_id" bigint NOT NULL,
	"object_id" bigint NOT NULL,
	"occurred_at" bigint NOT NULL,
	"subscription_type" text NOT NULL,
	"property_name" text DEFAULT '' NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"error_log_id" uuid,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	CONSTRAINT "webhook_inbox_status_check" CHECK ("webhook_inbox"."status" IN ('pending', 'done', 'parked'))
);
--> statement-breakpoint
ALTER TABLE "webhook_inbox" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"operation" text,
	"old_data" jsonb,
	"new_data" jsonb,
	"user_id" text,
	"timestamp" timestamp with time zone DEFAULT now(),
	"ip_address" "inet",
	"user_agent" text,
	CONSTRAINT "audit_logs_operation_check" CHECK ("audit_logs"."operation" IN ('create', 'update', 'delete'))
);
--> statement-breakpoint
ALTER TABLE "audit_logs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "error_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid,
	"error_type" text NOT NULL,
	"error_message" text NOT NULL,
	"stack_trace" text,
	"context" jsonb,
	"timestamp" timestamp with time zone DEFAULT now(),
	"resolved" boolean DEFAULT false,
	"resolved_at" timestamp with time zone,
	"resolved_by" text
);
--> statement-breakpoint
ALTER TABLE "error_logs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "sync_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid,
	"operation" text,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"timestamp" timestamp with time zone DEFAULT now(),
	"status" text,
	"details" jsonb,
	CONSTRAINT "sync_logs_operation_check" CHECK ("sync_logs"."operation" IN ('create', 'update', 'delete', 'sync')),
	CONSTRAINT "sync_logs_status_check" CHECK ("sync_logs"."status" IN ('success', 'error', 'warning'))
);
--> statement-breakpoint
ALTER TABLE "sync_logs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "outbox_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "outbox_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "sync_cursors" (
	"name" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" text NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone,
	"status" text DEFAULT 'pending',
	"records_count" integer DEFAULT 0,
	"error_count" integer DEFAULT 0,
	"created_at" timestamp with time zone DEFAULT now(),
	"mode" text DEFAULT 'full' NOT NULL,
	"trigger" text DEFAULT 'admin' NOT NULL,
	"triggered_by" text,
	"seen_count" integer DEFAULT 0 NOT NULL,
	"created_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"archived_count" integer DEFAULT 0 NOT NULL,
	"unchanged_count" integer DEFAULT 0 NOT NULL,
	"drift_count" integer DEFAULT 0 NOT NULL,
	"checkpoint" jsonb,
	"error_message" text,
	"heartbeat_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_sessions_session_id_unique" UNIQUE("session_id"),
	CONSTRAINT "sync_sessions_status_check" CHECK ("sync_sessions"."status" IN ('pending', 'running', 'completed', 'failed')),
	CONSTRAINT "sync_sessions_mode_check" CHECK ("sync_sessions"."mode" IN ('full', 'incremental')),
	CONSTRAINT "sync_sessions_trigger_check" CHECK ("sync_sessions"."trigger" IN ('schedule', 'admin', 'startup')),
	CONSTRAINT "sync_sessions_end_after_start" CHECK ("sync_sessions"."end_time" IS NULL OR "sync_sessions"."end_time" >= "sync_sessions"."start_time"),
	CONSTRAINT "sync_sessions_counts_non_negative" CHECK ("sync_sessions"."records_count" >= 0 AND "sync_sessions"."error_count" >= 0 AND "sync_sessions"."seen_count" >= 0 AND "sync_sessions"."created_count" >= 0
        AND "sync_sessions"."updated_count" >= 0 AND "sync_sessions"."archived_count" >= 0 AND "sync_sessions"."unchanged_count" >= 0 AND "sync_sessions"."drift_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "webhook_inbox" ADD CONSTRAINT "webhook_inbox_error_log_id_error_logs_id_fk" FOREIGN KEY ("error_log_id") REFERENCES "public"."error_logs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "error_logs" ADD CONSTRAINT "error_logs_session_id_sync_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sync_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_logs" ADD CONSTRAINT "sync_logs_session_id_sync_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sync_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_contact_property_history_contact" ON "contact_property_history" USING btree ("hubspot_id","property_name","occurred_at");--> statement-breakpoint
CREATE INDEX "idx_contacts_hubspot_id" ON "contacts" USING btree ("hubspot_id");--> statement-breakpoint
CREATE INDEX "idx_contacts_sync_status" ON "contacts" USING btree ("sync_status");--> statement-breakpoint
CREATE INDEX "idx_contacts_last_sync" ON "contacts" USING btree ("last_sync");--> statement-breakpoint
CREATE INDEX "idx_contacts_merged_into" ON "contacts" USING btree ("merged_into") WHERE "contacts"."merged_into" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_inbox_dedupe_key" ON "webhook_inbox" USING btree ("portal_id","subscription_id","event_id","object_id","occurred_at","property_name");--> statement-breakpoint
CREATE INDEX "idx_webhook_inbox_pending" ON "webhook_inbox" USING btree ("next_attempt_at","id") WHERE "webhook_inbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "idx_webhook_inbox_object" ON "webhook_inbox" USING btree ("object_id");--> statement-breakpoint
CREATE INDEX "idx_webhook_inbox_processed_at" ON "webhook_inbox" USING btree ("processed_at") WHERE "webhook_inbox"."status" = 'done';--> statement-breakpoint
CREATE INDEX "idx_audit_logs_entity" ON "audit_logs" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "idx_audit_logs_timestamp" ON "audit_logs" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "idx_error_logs_session_id" ON "error_logs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "idx_error_logs_timestamp" ON "error_logs" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "idx_error_logs_unresolved" ON "error_logs" USING btree ("timestamp") WHERE "error_logs"."resolved" = false;--> statement-breakpoint
CREATE INDEX "idx_sync_logs_session_id" ON "sync_logs" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "idx_sync_logs_timestamp" ON "sync_logs" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "idx_outbox_events_created_at" ON "outbox_events" USING btree ("created_at");--> statement-breakpoint
CREATE POLICY "hubspot_connections_owner_all" ON "hubspot_connections" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "contact_property_history_owner_all" ON "contact_property_history" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "contacts_owner_all" ON "contacts" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "webhook_inbox_owner_all" ON "webhook_inbox" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "audit_logs_owner_all" ON "audit_logs" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "error_logs_owner_all" ON "error_logs" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "sync_logs_owner_all" ON "sync_logs" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "outbox_events_owner_all" ON "outbox_events" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);