# syntax=docker/dockerfile:1
#
# GPU training image: `pnpm train` (and `pnpm evaluate`) on CUDA with @tensorflow/tfjs-node-gpu.
#
#   docker build -f docker/train.Dockerfile -t food101-train .
#   docker run --rm --gpus all -v "$PWD/data:/app/data" -v "$PWD/checkpoints:/app/checkpoints" \
#     food101-train --help
#
# tfjs-node-gpu 4.22 loads libtensorflow 2.9.1, which is built against CUDA 11.2 and cuDNN 8.1
# (the tfjs maintainers' stated requirement; it dlopens libcudart.so.11.0), so the base image
# is CUDA 11.2 + cuDNN 8 on Ubuntu 20.04. Newer CUDA majors (12.x) do not provide those sonames.
#
# Build without the GPU binary (machines that cannot reach the libtensorflow download host, or
# CPU-only hosts): --build-arg TFJS_NODE_GPU=0. The image then trains on the wasm/cpu backend.

# Node 24 LTS comes from the official Node image (the release CI tests, NODE24_VERSION in .ci/run)
# rather than a curl | bash installer; its binary needs glibc >= 2.28 and GLIBCXX_3.4.21, Ubuntu
# 20.04 has 2.31 and 3.4.28.
FROM node:24.22.3-bookworm-slim AS node

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS base
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && npm install --global --no-audit --no-fund pnpm@10.34.8 \
  && npm cache clean --force \
  && node --version && pnpm --version
ENV NPM_CONFIG_UPDATE_NOTIFIER=false

# Dependencies in their own stage: compilers for node-gyp (tfjs-node-gpu falls back to building
# its addon when no prebuilt one matches) stay out of the final image.
FROM base AS deps
ARG TFJS_NODE_GPU=1
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
# pnpm applies these to dependencies at install (tfjs-backend-wasm's pthreads build in Node).
COPY patches patches
COPY packages/core/package.json packages/core/
COPY packages/trainer/package.json packages/trainer/
COPY packages/server/package.json packages/server/
# Root (tsx runs the TypeScript) + the trainer and what it depends on; the server is not needed.
# Install scripts are skipped, then the one we want is run on its own: pnpm treats a failed
# optional install as a warning (exit 0), so the binding is checked explicitly and a build that
# asked for the GPU binary fails loudly instead of shipping a CPU-only image.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
  pnpm install --frozen-lockfile --ignore-scripts --store-dir /pnpm/store \
  --filter food101-resnet --filter "@food/trainer..." \
  && if [ "$TFJS_NODE_GPU" = "1" ]; then \
  pnpm rebuild --recursive @tensorflow/tfjs-node-gpu \
  && binding="$(find node_modules/.pnpm -path '*tfjs-node-gpu/lib/napi-v*/tfjs_binding.node' -print -quit)" \
  && if [ -z "$binding" ]; then echo "tfjs-node-gpu: no native binding (libtensorflow download failed?); use --build-arg TFJS_NODE_GPU=0 for a CPU image" >&2; exit 1; fi; \
  else echo "TFJS_NODE_GPU=$TFJS_NODE_GPU: libtensorflow skipped; training uses the wasm/cpu backend"; fi

FROM base AS runtime
ARG TFJS_NODE_GPU=1
LABEL org.opencontainers.image.title="food101-train" \
  org.opencontainers.image.description="Train and evaluate the Food-101 ResNet-50 with TensorFlow.js on CUDA 11.2" \
  food101.tfjs-node-gpu="${TFJS_NODE_GPU}"
# Unprivileged user; the mounted data/checkpoints/reports folders must be writable by uid 10001
# (or run with --user "$(id -u):$(id -g)").
RUN groupadd --system --gid 10001 app \
  && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages/core/node_modules ./packages/core/node_modules
COPY --from=deps /app/packages/trainer/node_modules ./packages/trainer/node_modules
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages/core packages/core
COPY packages/trainer packages/trainer
RUN mkdir -p data checkpoints reports \
  && chown app:app data checkpoints reports
# GPUs newer than TensorFlow 2.9 knows (Ada, Hopper) JIT-compile its kernels at every start unless the
# driver's cache is big enough and survives the container: keep it in the checkpoints volume.
# UV_THREADPOOL_SIZE: libuv's pool runs sharp's decodes for every decode worker and has 4 threads by
# default, too few to feed a GPU (package.json's train script sets the same).
ENV NODE_ENV=production \
  TF_CPP_MIN_LOG_LEVEL=1 \
  UV_THREADPOOL_SIZE=32 \
  CUDA_CACHE_MAXSIZE=4294967296 \
  CUDA_CACHE_PATH=/app/checkpoints/.nv-cache
VOLUME ["/app/data", "/app/checkpoints", "/app/reports"]
USER app
# First step: `pnpm run doctor` (driver, CUDA 11, cuDNN 8, a real TensorFlow step on the GPU, data), so
# a host that cannot train (no --gpus all, an old driver) stops here, printing each fix, rather than
# minutes into a run. It is skipped for --help and with SKIP_DOCTOR=1 (e.g. a TFJS_NODE_GPU=0 image).
# tini forwards SIGTERM/SIGINT to pnpm and reaps zombies.
ENTRYPOINT ["tini", "--", "sh", "-c", "case \" $* \" in *' --help '*|*' -h '*) ;; *) [ \"${SKIP_DOCTOR:-0}\" = 1 ] || pnpm run --silent doctor || exit 1 ;; esac; exec pnpm train \"$@\"", "pnpm-train"]
CMD ["--help"]
