# syntax=docker/dockerfile:1
# USSD & SMS channel service.
#   docker build -t ussd-sms .
#   docker run -p 3000:3000 -e REDIS_URL=redis://redis-host:6379 -e GATEWAY_URL=… -e GATEWAY_API_KEY=… \
#     -e GATEWAY_SECRET=… -e MERCHANT_ID=… -e API_TOKEN=<32+ chars> ussd-sms
#   (NODE_ENV=production: a GATEWAY_URL is required; the sandbox gateway, a development tool in
#   src/dev/, is not in this image)
# or `docker compose up` (compose.yaml adds Redis).
# The demo image, with the sandbox gateway built in (no gateway account, no real money):
#   docker build --target demo -t ussd-sms:demo .
#   docker run -p 3000:3000 -e REDIS_URL=redis://redis-host:6379 -e API_TOKEN=<32+ chars> ussd-sms:demo
# or `API_TOKEN=<32+ chars> docker compose --profile demo up --build demo`.
# Stages: deps (all deps, for the build) → build (tsc with tsconfig.build.json → dist/, without
# src/dev) → build-demo (tsconfig.demo.json: dist/ with the sandbox) → prod-deps (production deps
# only) → runtime-base (node, prod node_modules, build/console, menus/; no compiler, no tests, no
# sources) → demo (+ the demo dist/) and runtime (+ dist/; the last stage, so the default target).

ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The console's build step (scripts/console-build.mjs) vendors Chart.js and dagre from
# node_modules and compiles the aggregator wire (scripts/lib/channel-wire.ts) for the browser.
COPY scripts ./scripts
RUN npm run build

# The same build with the development sandbox (src/dev/) compiled in, for the demo image only.
FROM build AS build-demo
COPY tsconfig.demo.json ./
RUN npm run build:demo

FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime-base
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and only readable by the app's user: the process cannot rewrite its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
# The operator console's static assets (/console), built above; nothing is fetched at run time.
COPY --from=build /app/build ./build
COPY package.json ./
# Menus are data read at start-up (MENUS_DIR, default "menus" relative to /app).
COPY menus ./menus
# "node" (uid 1000) comes with the official image.
USER node
EXPOSE 3000
# No curl in the slim image: node's own fetch. Liveness only; /readyz also checks Redis.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# main.js handles SIGTERM itself: /readyz 503, then closes HTTP, workers and Redis, exiting within
# SHUTDOWN_TIMEOUT_S (default 25 s; give the orchestrator a longer grace period).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]

# The demo: the sandbox gateway embedded at /sandbox (its test routes need the API token). Still
# NODE_ENV=production, so API_TOKEN (32+ characters) is required; SANDBOX=1 says the sandbox is
# meant. With a GATEWAY_URL it talks to that gateway instead, like the production image.
FROM runtime-base AS demo
ENV SANDBOX=1
COPY --from=build-demo /app/dist ./dist

# The production image (the default target): dist/ without the sandbox; no GATEWAY_URL is refused.
FROM runtime-base AS runtime
COPY --from=build /app/dist ./dist
