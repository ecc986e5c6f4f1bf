CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" serial PRIMARY KEY NOT NULL,
	"org_id" integer NOT NULL,
	"capability" text NOT NULL,
	"person_id" integer NOT NULL,
	"rank" integer NOT NULL,
	"last_confirmed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "contacts_org_capability_rank_key" UNIQUE("org_id","capability","rank"),
	CONSTRAINT "contacts_org_capability_person_key" UNIQUE("org_id","capability","person_id"),
	CONSTRAINT "contacts_rank_check" CHECK ("contacts"."rank" >= 0),
	CONSTRAINT "contacts_capability_check" CHECK ("contacts"."capability" ~ '^[a-z0-9][a-z0-9-]{0,39}$')
);
--> statement-breakpoint
CREATE TABLE "org_inboxes" (
	"org_id" integer NOT NULL,
	"platform" text NOT NULL,
	"channel" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "org_inboxes_org_id_platform_pk" PRIMARY KEY("org_id","platform")
);
--> statement-breakpoint
CREATE TABLE "organisations" (
	"id" serial PRIMARY KEY NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organisations_code_unique" UNIQUE("code"),
	CONSTRAINT "organisations_kind_check" CHECK ("organisations"."kind" in ('delegation', 'industry', 'organiser')),
	CONSTRAINT "organisations_code_check" CHECK ("organisations"."code" ~ '^[A-Z0-9]{2,10}$')
);
--> statement-breakpoint
CREATE TABLE "people" (
	"id" serial PRIMARY KEY NOT NULL,
	"handle" text NOT NULL,
	"name" text NOT NULL,
	"org_id" integer,
	"role" text,
	"tz" text DEFAULT 'UTC' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "people_handle_unique" UNIQUE("handle"),
	CONSTRAINT "people_role_check" CHECK ("people"."role" in ('delegate', 'liaison', 'organiser', 'admin')),
	CONSTRAINT "people_handle_check" CHECK ("people"."handle" ~ '^[a-z0-9][a-z0-9._-]{0,39}$'),
	CONSTRAINT "people_membership_check" CHECK (("people"."org_id" is null) = ("people"."role" is null))
);
--> statement-breakpoint
CREATE TABLE "platform_identities" (
	"platform" text NOT NULL,
	"external_id" text NOT NULL,
	"person_id" integer NOT NULL,
	CONSTRAINT "platform_identities_platform_external_id_pk" PRIMARY KEY("platform","external_id"),
	CONSTRAINT "platform_identities_person_platform_key" UNIQUE("person_id","platform"),
	CONSTRAINT "platform_identities_platform_check" CHECK ("platform_identities"."platform" in ('slack', 'discord'))
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "org_inboxes" ADD CONSTRAINT "org_inboxes_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "people" ADD CONSTRAINT "people_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_identities" ADD CONSTRAINT "platform_identities_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_subject_idx" ON "audit_log" USING btree ("subject","at");--> statement-breakpoint
CREATE INDEX "contacts_capability_org_rank_idx" ON "contacts" USING btree ("capability","org_id","rank");--> statement-breakpoint
CREATE INDEX "contacts_person_idx" ON "contacts" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "people_org_idx" ON "people" USING btree ("org_id");