import { z } from "zod";
import { boolField, optionalUrl } from "../fields.ts";
import { defineSection } from "../section.ts";

/** The web page Morgan serves at `/` (web/). */
export const webSection = defineSection({
  schema: z
    .strictObject({
      enabled: boolField(true),
      /** Where the page gets a short-lived token (POST, cookies included) when Morgan requires authentication. */
      tokenUrl: optionalUrl(["http", "https"]),
    })
    .prefault({}),
  env: {
    MORGAN_WEB_ENABLED: "enabled",
    MORGAN_WEB_TOKEN_URL: "tokenUrl",
  },
});
