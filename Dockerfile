# syntax=docker/dockerfile:1
# One image per service, all from this file:
#   docker build --build-arg APP=inference -t aiot/inference:0.1.0 .
# APP is one of: message-broker-bridge, sensor-ingest, stream-analytics, inference, dashboard, telemetry-history,
# sensor-simulator, edgectl. See docs/deploy.md ("Images") for building all of them and loading
# them into K3s. The test cluster builds the `runtime` stage of this very file with buildah, giving
# it `base`, `prod-deps` and `stage` prebuilt (test/infra/images.sh).
# An exact Node release (the one the project is tested with), not the floating major.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: full install, compile every app and lib to dist/ ---------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json nx.json ./
COPY tools ./tools
COPY libs ./libs
COPY apps ./apps
RUN npm run build

# --- production dependencies only ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- stage: keep what APP needs (tools/image/stage-app.sh; the test cluster's builder runs the same script) ---
FROM ${NODE_IMAGE} AS stage
ARG APP
COPY --from=build /src/dist /src/dist
COPY models /src/models
COPY deploy /src/deploy
COPY tools/image/stage-app.sh /usr/local/bin/stage-app.sh
RUN set -e; \
    if [ -z "${APP}" ]; then echo "build with --build-arg APP=<app>" >&2; exit 1; fi; \
    sh /usr/local/bin/stage-app.sh "${APP}" /src /out

# --- base: the Node runtime and the non-root user ----------------------------------------------------------
# The charts run pods as 10001:10001 with a read-only root filesystem (+ /tmp emptyDir).
FROM ${NODE_IMAGE} AS base
RUN groupadd --system --gid 10001 aiot \
 && useradd --system --uid 10001 --gid aiot --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin aiot

# --- runtime ------------------------------------------------------------------------------------------------
# App-independent layers first, so every app image shares them.
FROM base AS runtime
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=prod-deps /src/package.json ./package.json
ARG APP
LABEL org.opencontainers.image.title="aiot-${APP}" \
      org.opencontainers.image.description="AIoT edge stack: ${APP}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    APP=${APP} \
    HTTP_PORT=8080
COPY --from=stage /out/ ./
USER 10001:10001
EXPOSE 8080
# Liveness of the HTTP services; edgectl is a CLI without a server.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "[ \"$APP\" = edgectl ] || node -e \"fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""]
ENTRYPOINT ["/bin/sh", "-c", "exec node \"dist/apps/${APP}/src/main.js\" \"$@\"", "--"]
