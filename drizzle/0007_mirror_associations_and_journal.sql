CREATE TABLE "contact_associations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"contact_hubspot_id" text NOT NULL,
	"to_object_type" text NOT NULL,
	"to_object_id" text NOT NULL,
	"association_type_id" integer NOT NULL,
	"category" text DEFAULT 'HUBSPOT_DEFINED' NOT NULL,
	"label" text,
	"is_primary" boolean DEFAULT false NOT NULL,
	"removed" boolean DEFAULT false NOT NULL,
	"version" bigint NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "unique_contact_association" UNIQUE("contact_hubspot_id","to_object_type","to_object_id","association_type_id")
);
--> statement-breakpoint
ALTER TABLE "contact_associations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "contact_property_definitions" (
	"name" text PRIMARY KEY NOT NULL,
	"label" text,
	"type" text,
	"field_type" text,
	"deleted_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contact_property_definitions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "journal_checkpoints" (
	"portal_id" bigint PRIMARY KEY NOT NULL,
	"journal_offset" text NOT NULL,
	"checked_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "journal_checkpoints" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "purged_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "idx_contact_associations_to" ON "contact_associations" USING btree ("to_object_type","to_object_id");--> statement-breakpoint
CREATE POLICY "contact_associations_owner_all" ON "contact_associations" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "contact_property_definitions_owner_all" ON "contact_property_definitions" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);--> statement-breakpoint
CREATE POLICY "journal_checkpoints_owner_all" ON "journal_checkpoints" AS PERMISSIVE FOR ALL TO current_user USING (true) WITH CHECK (true);