# syntax=docker/dockerfile:1
# One image for every Hatch process; docker-compose.yml picks the entry (dist/<process>.js) per service.
#   build         all dependencies, then `pnpm build`: dist/<process>.js bundles and the prebuilt inbox
#   dependencies  the production dependency set only (the root package.json's `dependencies`)
#   runtime       node, those dependencies, dist/, migrations/; no tsx, Vite, test tools or dev databases
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm i -g pnpm
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build

FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
RUN npm i -g pnpm
COPY . .
# Only the root project: the bundles import third-party packages from /app/node_modules.
RUN pnpm install --prod --frozen-lockfile --filter hatch-messaging

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and read-only to the process: nothing is written at run time.
COPY package.json ./
COPY migrations/ migrations/
COPY --from=dependencies /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
USER node
# Overridden per service in docker-compose.yml. dist/tracing.js starts OpenTelemetry when OTEL_* configures it.
CMD ["node", "--enable-source-maps", "--import", "./dist/tracing.js", "dist/command-api.js"]
