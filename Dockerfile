# syntax=docker/dockerfile:1
# Api users: the server (with its dashboard) built with pnpm, run by Node as a non-root user.
#   docker build -t api-users .        (or: podman build -t api-users .)
# Node 20.19+ or 22.12+ (package.json engines). The build stage has Python, make and g++ for better-sqlite3's
# addon; the runtime stage has neither.
ARG NODE_BUILD_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${NODE_BUILD_IMAGE} AS build
RUN npm install --global pnpm@10.34.9
WORKDIR /src
# Manifests first: the dependency layer is rebuilt only when they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY apps/server/package.json apps/server/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/contract/package.json packages/contract/
COPY packages/db/package.json packages/db/
COPY packages/sdk/package.json packages/sdk/
RUN pnpm install --frozen-lockfile --filter "@api-users/server..." --filter "@api-users/dashboard..."
COPY . .
RUN pnpm exec turbo run build --filter "@api-users/server..." --filter "@api-users/dashboard..." \
 && pnpm --filter @api-users/server deploy --prod --legacy /app/apps/server \
 && cp -r apps/dashboard/dist /app/dashboard-dist

FROM ${NODE_RUNTIME_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/api-users.sqlite
WORKDIR /app/apps/server
COPY --from=build /app/apps/server ./
# The server finds the dashboard at apps/dashboard/dist beside it.
COPY --from=build /app/dashboard-dist /app/apps/dashboard/dist
# SQLite's file (the default database) lives in a volume the non-root user owns.
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and gets SIGTERM itself (exec form, no shell): it drains, closes the database, exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
