CREATE TABLE "alerts" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"text" text NOT NULL,
	"tlp" text NOT NULL,
	"severity" text NOT NULL,
	"audience" text NOT NULL,
	"sender_id" integer NOT NULL,
	"sender_user" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alerts_ref_unique" UNIQUE("ref")
);
--> statement-breakpoint
CREATE TABLE "assist_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"need" text NOT NULL,
	"capability" text NOT NULL,
	"urgency" text NOT NULL,
	"tlp" text NOT NULL,
	"audience" text NOT NULL,
	"requester_id" integer NOT NULL,
	"requester_user" text NOT NULL,
	"tracking_key" text NOT NULL,
	"incident_id" integer,
	"status" text DEFAULT 'open' NOT NULL,
	"outcome" text,
	"created_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "assist_requests_ref_unique" UNIQUE("ref"),
	CONSTRAINT "assist_requests_status_check" CHECK ("assist_requests"."status" in ('open', 'closed')),
	CONSTRAINT "assist_requests_urgency_check" CHECK ("assist_requests"."urgency" in ('routine', 'urgent', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "routing_cards" (
	"id" serial PRIMARY KEY NOT NULL,
	"routing_id" integer NOT NULL,
	"delivery_key" text NOT NULL,
	"target" text NOT NULL,
	"person_id" integer,
	CONSTRAINT "routing_cards_delivery_key_unique" UNIQUE("delivery_key")
);
--> statement-breakpoint
CREATE TABLE "routings" (
	"id" serial PRIMARY KEY NOT NULL,
	"request_id" integer,
	"alert_id" integer,
	"org_id" integer NOT NULL,
	"status" text DEFAULT 'waiting' NOT NULL,
	"asked" integer[] NOT NULL,
	"answered_by" integer,
	"answered_at" timestamp with time zone,
	"engaged_key" text,
	CONSTRAINT "routings_request_org_key" UNIQUE("request_id","org_id"),
	CONSTRAINT "routings_alert_org_key" UNIQUE("alert_id","org_id"),
	CONSTRAINT "routings_subject_check" CHECK (("routings"."request_id" is null) <> ("routings"."alert_id" is null)),
	CONSTRAINT "routings_status_check" CHECK ("routings"."status" in ('waiting', 'accepted', 'declined', 'acknowledged'))
);
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_mode_check";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "anchor" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "org_inboxes" ADD COLUMN "private" boolean;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_sender_id_people_id_fk" FOREIGN KEY ("sender_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assist_requests" ADD CONSTRAINT "assist_requests_requester_id_people_id_fk" FOREIGN KEY ("requester_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assist_requests" ADD CONSTRAINT "assist_requests_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_cards" ADD CONSTRAINT "routing_cards_routing_id_routings_id_fk" FOREIGN KEY ("routing_id") REFERENCES "public"."routings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routing_cards" ADD CONSTRAINT "routing_cards_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routings" ADD CONSTRAINT "routings_request_id_assist_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."assist_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routings" ADD CONSTRAINT "routings_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routings" ADD CONSTRAINT "routings_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routings" ADD CONSTRAINT "routings_answered_by_people_id_fk" FOREIGN KEY ("answered_by") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assist_requests_requester_idx" ON "assist_requests" USING btree ("requester_id");--> statement-breakpoint
CREATE INDEX "routing_cards_routing_idx" ON "routing_cards" USING btree ("routing_id");--> statement-breakpoint
CREATE INDEX "deliveries_anchor_idx" ON "deliveries" USING btree ("anchor","id") WHERE "deliveries"."anchor" is not null;--> statement-breakpoint
CREATE INDEX "deliveries_posted_ref_idx" ON "deliveries" USING btree ("message_ref") WHERE "deliveries"."anchor" is null and "deliveries"."source" is null;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_mode_check" CHECK ("deliveries"."mode" in ('channel', 'direct', 'update', 'edit', 'reply'));