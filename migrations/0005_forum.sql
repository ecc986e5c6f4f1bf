CREATE TABLE "forum_actions" (
	"id" serial PRIMARY KEY NOT NULL,
	"session_id" integer NOT NULL,
	"text" text NOT NULL,
	"owner_id" integer NOT NULL,
	"due" date NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"done_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "forum_actions_status_check" CHECK ("forum_actions"."status" in ('open', 'done'))
);
--> statement-breakpoint
CREATE TABLE "forum_participants" (
	"session_id" integer NOT NULL,
	"person_id" integer NOT NULL,
	CONSTRAINT "forum_participants_session_id_person_id_pk" PRIMARY KEY("session_id","person_id")
);
--> statement-breakpoint
CREATE TABLE "forum_sessions" (
	"id" serial PRIMARY KEY NOT NULL,
	"ref" text NOT NULL,
	"title" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"tz" text NOT NULL,
	"anchor" jsonb NOT NULL,
	"repeat" text DEFAULT 'none' NOT NULL,
	"reminders" jsonb NOT NULL,
	"tlp" text DEFAULT 'amber' NOT NULL,
	"channel" text NOT NULL,
	"organiser_id" integer,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"previous_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "forum_sessions_ref_unique" UNIQUE("ref"),
	CONSTRAINT "forum_sessions_title_start_key" UNIQUE("title","starts_at"),
	CONSTRAINT "forum_sessions_status_check" CHECK ("forum_sessions"."status" in ('scheduled', 'held', 'cancelled')),
	CONSTRAINT "forum_sessions_repeat_check" CHECK ("forum_sessions"."repeat" in ('none', 'yearly'))
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "nagged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "forum_actions" ADD CONSTRAINT "forum_actions_session_id_forum_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."forum_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forum_actions" ADD CONSTRAINT "forum_actions_owner_id_people_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forum_participants" ADD CONSTRAINT "forum_participants_session_id_forum_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."forum_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forum_participants" ADD CONSTRAINT "forum_participants_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forum_sessions" ADD CONSTRAINT "forum_sessions_organiser_id_people_id_fk" FOREIGN KEY ("organiser_id") REFERENCES "public"."people"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "forum_actions_session_idx" ON "forum_actions" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "forum_sessions_start_idx" ON "forum_sessions" USING btree ("starts_at");