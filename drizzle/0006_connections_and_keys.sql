CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_name_unique" UNIQUE("name"),
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "api_keys_role_check" CHECK ("api_keys"."role" IN ('admin', 'read')),
	CONSTRAINT "api_keys_name_check" CHECK ("api_keys"."name" ~ '^[a-z0-9][a-z0-9_.-]{0,62}$')
);
--> statement-breakpoint
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "oauth_states" (
	"nonce" text PRIMARY KEY NOT NULL,
	"redirect_uri" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "oauth_states" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "hubspot_connections" ADD COLUMN "kind" text DEFAULT 'oauth' NOT NULL;--> statement-breakpoint
ALTER TABLE "hubspot_connections" ADD COLUMN "token_key_id" text;--> statement-breakpoint
ALTER TABLE "hubspot_connections" ADD COLUMN "hub_domain" text;--> statement-breakpoint
ALTER TABLE "hubspot_connections" ADD COLUMN "installed_by" text;--> statement-breakpoint
ALTER TABLE "hubspot_connections" ADD CONSTRAINT "hubspot_connections_kind_check" CHECK ("hubspot_connections"."kind" IN ('oauth', 'private_app'));--> statement-breakpoint
CREATE POLICY "api_keys_owner_all" ON "api_keys" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "oauth_states_owner_all" ON "oauth_states" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);