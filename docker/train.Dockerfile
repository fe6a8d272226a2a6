# syntax=docker/dockerfile:1
#
# GPU training image: `pnpm train` (and `pnpm evaluate`) on CUDA with @tensorflow/tfjs-node-gpu.
#
#   docker build -f docker/train.Dockerfile -t food101-train .
#   docker run --rm --gpus all -v "$PWD/data:/app/data" -v "$PWD/checkpoints:/app/checkpoints" \
#     food101-train --help
#
# One CUDA stack, all from PyPI: `pnpm setup:tensorflow --gpu` puts TensorFlow 2.21.0's libtensorflow
# and the NVIDIA wheels its `and-cuda` extra pins (CUDA 12.5 runtime, cuBLAS, cuDNN 9.3, cuFFT, cuRAND,
# cuSOLVER, cuSPARSE, nvJitLink, NVRTC; sha256-checked) into tfjs-node-gpu's deps/, where libtensorflow's
# RUNPATH finds them. So the base is the same Node 24 image as serving, with no nvidia/cuda image and no
# Google storage download; the NVIDIA Container Toolkit mounts the driver (≥ 525.60.13) at run time
# (`docker run --gpus all`). Versions and GPUs: docs/gpu.md.
#
# CPU-only image (TensorFlow's CPU build, no CUDA wheels, ~2 GB smaller): --build-arg TFJS_NODE_GPU=0.

# Node 24 LTS, the release CI tests (NODE24_VERSION in .ci/run) and the serving image runs.
FROM node:24.22.3-bookworm-slim AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates tini \
  && rm -rf /var/lib/apt/lists/* \
  && npm install --global --no-audit --no-fund pnpm@10.34.8 \
  && npm cache clean --force \
  && node --version && pnpm --version

# Dependencies in their own stage: the compilers node-gyp needs to build tfjs-node's binding against
# the wheel's libtensorflow stay out of the final image.
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
# Install scripts are skipped: tfjs-node's would download libtensorflow 2.9.1 from Google storage.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
  pnpm install --frozen-lockfile --ignore-scripts --store-dir /pnpm/store \
  --filter food101-resnet --filter "@food/trainer..."
COPY tsconfig.base.json ./
COPY packages/core packages/core
COPY packages/trainer packages/trainer
# Says the download size first (about 2 GiB for the GPU), checks every wheel's sha256, builds the
# binding and runs one op; it exits non-zero when any of that fails, so a broken image is never built.
RUN if [ "$TFJS_NODE_GPU" = "1" ]; then pnpm setup:tensorflow --gpu; else pnpm setup:tensorflow; fi

FROM base AS runtime
ARG TFJS_NODE_GPU=1
LABEL org.opencontainers.image.title="food101-train" \
  org.opencontainers.image.description="Train and evaluate the Food-101 ResNet-50 with TensorFlow.js: TensorFlow 2.21, CUDA 12.5, cuDNN 9.3 (all from PyPI)" \
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
# TensorFlow 2.21 has machine code for compute 6.0-9.0 (Hopper included); newer GPUs (Blackwell) compile
# its PTX at start, which the driver caches only when the cache is big enough and survives the container:
# keep it in the checkpoints volume. NVIDIA_DRIVER_CAPABILITIES: the toolkit mounts libcuda (compute) and
# nvidia-smi (utility; the doctor and `--accumulate auto` read free GPU memory with it).
# UV_THREADPOOL_SIZE: libuv's pool runs sharp's decodes for every decode worker and has 4 threads by
# default, too few to feed a GPU (package.json's train script sets the same).
ENV NODE_ENV=production \
  NVIDIA_DRIVER_CAPABILITIES=compute,utility \
  TF_CPP_MIN_LOG_LEVEL=1 \
  UV_THREADPOOL_SIZE=32 \
  CUDA_CACHE_MAXSIZE=4294967296 \
  CUDA_CACHE_PATH=/app/checkpoints/.nv-cache
VOLUME ["/app/data", "/app/checkpoints", "/app/reports"]
USER app
# First step: `pnpm run doctor` (driver, each CUDA library loaded, kernels for the GPU, a real training
# step at the planned micro-batch, data), so a host that cannot train (an old driver, a GPU TensorFlow
# has no kernels for) stops here, printing each fix, rather than minutes into a run. Only a failed check
# stops it; warnings (no GPU: the run uses the CPU; data not prepared yet) are printed and the run goes
# on. It is skipped for --help and with SKIP_DOCTOR=1.
# tini forwards SIGTERM/SIGINT to pnpm and reaps zombies.
ENTRYPOINT ["tini", "--", "sh", "-c", "case \" $* \" in *' --help '*|*' -h '*) ;; *) [ \"${SKIP_DOCTOR:-0}\" = 1 ] || pnpm run --silent doctor || exit 1 ;; esac; exec pnpm train \"$@\"", "pnpm-train"]
CMD ["--help"]
