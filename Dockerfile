# syntax=docker/dockerfile:1
# One image for every Hatch service; the compose file picks the entry per service.
# Stage 1 installs the locked dependencies; stage 2 is the runtime with only what it needs.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm i -g pnpm
COPY pnpm-workspace.yaml pnpm-lock.yaml package.json ./
COPY packages/ packages/
COPY services/ services/
COPY projections/ projections/
COPY infra/ infra/
RUN pnpm install --frozen-lockfile

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app /app
COPY migrations/ migrations/
COPY bin/ bin/
COPY tsconfig.base.json tsconfig.json ./
USER node
# Overridden per service in docker-compose.yml.
CMD ["node", "--import", "tsx", "services/command-api/src/main.ts"]
