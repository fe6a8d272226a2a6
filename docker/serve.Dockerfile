# syntax=docker/dockerfile:1
#
# Inference server image: `@food/server` and its production dependencies only, on the CPU: ONNX Runtime
# when an ONNX export lies beside the checkpoint (`--engine auto`), else tfjs on wasm.
#
#   docker build -f docker/serve.Dockerfile -t food101-serve .
#   docker run --rm -p 5000:5000 -v "$PWD/checkpoints/RUN:/model:ro" -e CHECKPOINT=/model/best food101-serve
#
# The checkpoint is not in the image: mount a run folder (its best.onnx beside best/) or a checkpoint
# folder read-only, and point CHECKPOINT at the checkpoint (default /checkpoint).

FROM node:24.22.3-bookworm-slim AS build
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
RUN npm install --global --no-audit --no-fund pnpm@10.34.8 && npm cache clean --force
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# pnpm applies these to dependencies at install (tfjs-backend-wasm's pthreads build in Node).
COPY patches patches
COPY packages/core/package.json packages/core/
COPY packages/trainer/package.json packages/trainer/
COPY packages/server/package.json packages/server/
COPY packages/core packages/core
COPY packages/server packages/server
# `pnpm deploy` copies the server and its production dependency closure (with @food/core injected)
# into a self-contained folder, resolved from the workspace lockfile. Install scripts are skipped:
# the only one that matters, tfjs-node-gpu's libtensorflow download, is for GPU training images
# (the server then logs that it skipped tensorflow and runs on wasm). --legacy: the workspace does
# not set inject-workspace-packages, which pnpm 10's default deploy requires.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
  pnpm deploy --legacy --filter @food/server --prod --frozen-lockfile --ignore-scripts \
  --store-dir /pnpm/store /app/server
# The server runs TypeScript through tsx (a root dev dependency of the workspace, so not part of
# the deploy). Installed one folder above the server so that both `node --import tsx` and the
# worker threads' own `import 'tsx/esm/api'` resolve it. Versions match the lockfile.
ARG TSX_VERSION=4.23.15
ARG ESBUILD_VERSION=0.28.2
RUN npm install --prefix /app --no-audit --no-fund --save-exact \
  "tsx@${TSX_VERSION}" "esbuild@${ESBUILD_VERSION}" \
  && npm cache clean --force

FROM node:24.22.3-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="food101-serve" \
  org.opencontainers.image.description="Food-101 ResNet-50 inference API and web UI (TensorFlow.js)"
# tini as PID 1 forwards SIGTERM to node (the server drains in-flight requests, then exits) and
# reaps zombies; `docker run --init` would do the same, but the image must not depend on it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# Code stays owned by root: the unprivileged `node` user (uid 1000, from the base image) can read
# but not modify it.
COPY --from=build /app /app
WORKDIR /app/server
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=5000 \
  CHECKPOINT=/checkpoint
EXPOSE 5000
USER node
# Readiness, not liveness: /api/ready answers 200 once the model is loaded and warmed up.
# Node has fetch built in, so the slim image needs no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--"]
CMD ["node", "--import", "tsx", "src/cli.ts", "serve"]
