CREATE TABLE "sweep_seen" (
	"pass_id" uuid NOT NULL,
	"hubspot_id" text NOT NULL,
	CONSTRAINT "sweep_seen_pass_id_hubspot_id_pk" PRIMARY KEY("pass_id","hubspot_id")
);
--> statement-breakpoint
ALTER TABLE "contacts" ALTER COLUMN "updated_at" SET NOT NULL;