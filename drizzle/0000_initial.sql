CREATE TABLE "audio_transcriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" uuid NOT NULL,
	"message_id" uuid,
	"transcription" text NOT NULL,
	"language" text,
	"confidence" real,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" text NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_message_at" timestamp with time zone,
	"message_count" integer DEFAULT 0 NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"role" text NOT NULL,
	"content" text NOT NULL,
	"sequence_number" integer NOT NULL,
	"tokens_used" integer,
	"processing_time_ms" integer,
	"interrupted" boolean DEFAULT false NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_role_check" CHECK ("messages"."role" in ('system', 'user', 'assistant')),
	CONSTRAINT "messages_sequence_positive" CHECK ("messages"."sequence_number" > 0)
);
--> statement-breakpoint
CREATE TABLE "streaming_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"session_id" text NOT NULL,
	"user_id" text NOT NULL,
	"conversation_id" uuid,
	"status" text DEFAULT 'active' NOT NULL,
	"session_type" text DEFAULT 'voice' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE TABLE "tts_generations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" uuid,
	"text_hash" text NOT NULL,
	"voice" text NOT NULL,
	"speed" real NOT NULL,
	"audio_format" text NOT NULL,
	"sample_rate" integer NOT NULL,
	"duration_ms" integer,
	"audio" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audio_transcriptions" ADD CONSTRAINT "audio_transcriptions_session_id_streaming_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."streaming_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audio_transcriptions" ADD CONSTRAINT "audio_transcriptions_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "streaming_sessions" ADD CONSTRAINT "streaming_sessions_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tts_generations" ADD CONSTRAINT "tts_generations_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audio_transcriptions_session_idx" ON "audio_transcriptions" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "audio_transcriptions_message_idx" ON "audio_transcriptions" USING btree ("message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_conversation_id_key" ON "conversations" USING btree ("conversation_id");--> statement-breakpoint
CREATE INDEX "conversations_user_recent_idx" ON "conversations" USING btree ("user_id","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "messages_conversation_sequence_key" ON "messages" USING btree ("conversation_id","sequence_number");--> statement-breakpoint
CREATE UNIQUE INDEX "streaming_sessions_session_id_key" ON "streaming_sessions" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "streaming_sessions_user_idx" ON "streaming_sessions" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "streaming_sessions_conversation_idx" ON "streaming_sessions" USING btree ("conversation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tts_generations_lookup_key" ON "tts_generations" USING btree ("text_hash","voice","speed","audio_format");--> statement-breakpoint
CREATE INDEX "tts_generations_message_idx" ON "tts_generations" USING btree ("message_id");