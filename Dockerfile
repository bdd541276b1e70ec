# syntax=docker/dockerfile:1
# One image per service, all from this file:
#   docker build --build-arg APP=inference -t aiot/inference:0.1.0 .
# APP is one of: message-broker-bridge, sensor-ingest, stream-analytics, inference, dashboard,
# sensor-simulator, edgectl. See docs/deploy.md ("Images") for building all of them and loading
# them into K3s.
ARG NODE_IMAGE=node:20-bookworm-slim

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

# --- stage: keep what APP needs ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS stage
ARG APP
WORKDIR /out
COPY --from=build /src/dist ./dist
COPY models ./models.all
COPY deploy ./deploy.all
RUN set -e; \
    if [ -z "${APP}" ]; then echo "build with --build-arg APP=<app>" >&2; exit 1; fi; \
    if [ ! -f "dist/apps/${APP}/src/main.js" ]; then echo "no app ${APP}: dist/apps/${APP}/src/main.js was not built" >&2; exit 1; fi; \
    find dist/apps -mindepth 1 -maxdepth 1 ! -name "${APP}" -exec rm -rf {} +; \
    rm -rf dist/test; \
    # inference (and its model-publish job) carries the model versions: models/<name>/<version>/
    if [ "${APP}" = inference ]; then \
      mkdir models; \
      for v in models.all/*/*/model.onnx; do d="$(dirname "$v")"; rel="${d#models.all/}"; mkdir -p "models/${rel}"; cp "$d/model.onnx" "$d/model.json" "models/${rel}/"; done; \
    fi; \
    # stream-analytics reads each served model's feature order from its model.json (no weights)
    if [ "${APP}" = stream-analytics ]; then \
      for v in models.all/*/*/model.json; do d="$(dirname "$v")"; rel="${d#models.all/}"; mkdir -p "models/${rel}"; cp "$v" "models/${rel}/"; done; \
      for c in models.all/*/current; do if [ -f "$c" ]; then cp "$c" "models/${c#models.all/}"; fi; done; \
    fi; \
    # edgectl carries the charts, profiles and intended policy matrix it deploys and checks
    if [ "${APP}" = edgectl ]; then mkdir deploy; cp -R deploy.all/helm deploy.all/profiles deploy.all/policy deploy/; fi; \
    rm -rf models.all deploy.all

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG APP
LABEL org.opencontainers.image.title="aiot-${APP}" \
      org.opencontainers.image.description="AIoT edge stack: ${APP}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    APP=${APP} \
    HTTP_PORT=8080
WORKDIR /app
# Non-root user; the charts run pods as 10001:10001 with a read-only root filesystem (+ /tmp emptyDir).
RUN groupadd --system --gid 10001 aiot \
 && useradd --system --uid 10001 --gid aiot --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin aiot
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=prod-deps /src/package.json ./package.json
COPY --from=stage /out/ ./
USER 10001:10001
EXPOSE 8080
# Liveness of the HTTP services; edgectl is a CLI without a server.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "[ \"$APP\" = edgectl ] || node -e \"fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""]
ENTRYPOINT ["/bin/sh", "-c", "exec node \"dist/apps/${APP}/src/main.js\" \"$@\"", "--"]
