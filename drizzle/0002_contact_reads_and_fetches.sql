ALTER TABLE "contacts" ADD COLUMN "fetch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "next_fetch_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "idx_contacts_email" ON "contacts" USING btree (lower("data" ->> 'email'));--> statement-breakpoint
CREATE INDEX "idx_contacts_updated_at" ON "contacts" USING btree ("updated_at","id");--> statement-breakpoint
CREATE INDEX "idx_contacts_to_fetch" ON "contacts" USING btree ("next_fetch_at") WHERE "contacts"."sync_status" = 'pending';