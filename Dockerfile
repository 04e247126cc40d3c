# Morgan core: the Bun server. Build from the repository root: docker build -t morgan-core .
FROM oven/bun:1.4.4-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.4-slim
WORKDIR /app
# A container listens on its network: Morgan then refuses to start until MORGAN_AUTH_MODE (and its keys) is set.
ENV NODE_ENV=production \
    PORT=8000 \
    MORGAN_HOST=0.0.0.0 \
    MORGAN_JOURNAL_DIR=/var/lib/morgan/journal \
    MORGAN_PGLITE_DIR=/var/lib/morgan/pglite
COPY --from=deps /app/node_modules ./node_modules
# tsconfig.json carries the @triton-client path alias Bun resolves at run time.
COPY package.json tsconfig.json ./
COPY src ./src
COPY packages ./packages
# The web page, built in memory by the server on its first request to /.
COPY web ./web
COPY drizzle ./drizzle
COPY config ./config
COPY scripts/migrate.ts ./scripts/migrate.ts
RUN mkdir -p /var/lib/morgan && chown -R bun:bun /var/lib/morgan
USER bun
EXPOSE 8000
# The image has no curl; Bun's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:8000/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM from `docker stop` triggers the graceful shutdown in src/main.ts.
STOPSIGNAL SIGTERM
CMD ["bun", "run", "src/main.ts"]
