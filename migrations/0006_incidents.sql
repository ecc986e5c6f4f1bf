CREATE TABLE "inbound_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incident_channels" (
	"id" serial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"platform" text NOT NULL,
	"role" text NOT NULL,
	"name" text NOT NULL,
	"channel" text,
	"create_attempted" boolean DEFAULT false NOT NULL,
	"card" text,
	"card_revision" integer DEFAULT 0 NOT NULL,
	"pinned" boolean DEFAULT false NOT NULL,
	"invited" integer[] DEFAULT '{}'::integer[] NOT NULL,
	"announced" integer DEFAULT 0 NOT NULL,
	"reported" boolean DEFAULT false NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	CONSTRAINT "incident_channels_channel_unique" UNIQUE("channel"),
	CONSTRAINT "incident_channels_platform_key" UNIQUE("incident_id","platform"),
	CONSTRAINT "incident_channels_role_check" CHECK ("incident_channels"."role" in ('primary', 'twin'))
);
--> statement-breakpoint
CREATE TABLE "incident_members" (
	"incident_id" integer NOT NULL,
	"person_id" integer NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "incident_members_incident_id_person_id_pk" PRIMARY KEY("incident_id","person_id")
);
--> statement-breakpoint
CREATE TABLE "incident_parties" (
	"incident_id" integer NOT NULL,
	"org_id" integer NOT NULL,
	CONSTRAINT "incident_parties_incident_id_org_id_pk" PRIMARY KEY("incident_id","org_id")
);
--> statement-breakpoint
CREATE TABLE "incident_timeline" (
	"id" serial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_id" integer,
	"kind" text NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"title" text NOT NULL,
	"channel_name" text NOT NULL,
	"severity" text NOT NULL,
	"tlp" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"platform" text NOT NULL,
	"opener_id" integer NOT NULL,
	"lead_id" integer,
	"summary" text,
	"revision" integer DEFAULT 1 NOT NULL,
	"synced_revision" integer DEFAULT 0 NOT NULL,
	"provision" text DEFAULT 'pending' NOT NULL,
	"provision_error" text,
	"provision_lease" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	CONSTRAINT "incidents_ref_unique" UNIQUE("ref"),
	CONSTRAINT "incidents_status_check" CHECK ("incidents"."status" in ('active', 'stable', 'closed')),
	CONSTRAINT "incidents_severity_check" CHECK ("incidents"."severity" in ('low', 'medium', 'high', 'critical')),
	CONSTRAINT "incidents_provision_check" CHECK ("incidents"."provision" in ('pending', 'ready', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_mode_check";--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "source_channel" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "thread_of" text;--> statement-breakpoint
ALTER TABLE "incident_channels" ADD CONSTRAINT "incident_channels_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_members" ADD CONSTRAINT "incident_members_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_members" ADD CONSTRAINT "incident_members_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_parties" ADD CONSTRAINT "incident_parties_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_parties" ADD CONSTRAINT "incident_parties_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_timeline" ADD CONSTRAINT "incident_timeline_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_timeline" ADD CONSTRAINT "incident_timeline_actor_id_people_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_opener_id_people_id_fk" FOREIGN KEY ("opener_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_lead_id_people_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incident_timeline_incident_idx" ON "incident_timeline" USING btree ("incident_id","at");--> statement-breakpoint
CREATE INDEX "incidents_status_idx" ON "incidents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "incidents_provision_idx" ON "incidents" USING btree ("provision") WHERE "incidents"."provision" = 'pending';--> statement-breakpoint
CREATE INDEX "deliveries_source_idx" ON "deliveries" USING btree ("source","target") WHERE "deliveries"."source" is not null;--> statement-breakpoint
CREATE INDEX "deliveries_message_ref_idx" ON "deliveries" USING btree ("message_ref") WHERE "deliveries"."source" is not null;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_mode_check" CHECK ("deliveries"."mode" in ('channel', 'direct', 'update'));