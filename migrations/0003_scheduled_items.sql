CREATE TABLE "scheduled_items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"generation" integer DEFAULT 1 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"fired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "scheduled_items_kind_subject_key" UNIQUE("kind","subject"),
	CONSTRAINT "scheduled_items_status_check" CHECK ("scheduled_items"."status" in ('pending', 'done', 'cancelled', 'failed'))
);
--> statement-breakpoint
CREATE INDEX "scheduled_items_pending_due_idx" ON "scheduled_items" USING btree ("due_at") WHERE "scheduled_items"."status" = 'pending';