# syntax=docker/dockerfile:1
# One image per app: docker build --build-arg APP=ingest -t fanfare-relay-ingest .
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install -g pnpm@12.4.2
WORKDIR /repo

FROM base AS build
ARG APP
# Without APP the filter below would match nothing and build an image that cannot start.
RUN test -n "$APP" || (echo "build with --build-arg APP=<app> (ingest, dashboard, worker-queue, …)" >&2 && exit 1)
COPY . .
RUN test -d "apps/$APP" || (echo "no app apps/$APP: use one of $(ls apps | tr '\n' ' ')" >&2 && exit 1)
# The same two steps as `node scripts/build-app.mjs $APP /out`: compile the app and the workspace
# packages it uses to dist/ (tsc), then `pnpm deploy --prod`: the app's dist/, its production
# dependencies and the packages' dist/ only (their package.json "files"), no sources, no tests.
RUN pnpm install --frozen-lockfile --filter "@fanfare-relay/${APP}..."
RUN node scripts/build-app.mjs "$APP" /out

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Compiled JavaScript, one node process: it gets SIGTERM directly (compose adds --init as PID 1).
CMD ["node", "dist/main.js"]
