# The video-translation server, its demo page and the client's npm package in one image.
#
#   docker build -t video-translation-server .            the full build (about 40 min on 2 cores)
#   docker run --rm -p 8080:8080 video-translation-server  then http://127.0.0.1:8080/
#
# Every flag is an environment variable (VTS_DELAY, VTS_STORE, VTS_API_KEYS, ...: see
# `docker run --rm video-translation-server --help`); arguments after the image name are flags.
#
# Stages: `build` compiles the server and the npm package in the official Rust image (with
# Node for the package's tools); `runtime` (the default, last) is slim Debian with the
# results. `prebuilt` is the same runtime with a server binary and package built outside,
# on a bookworm host: `make container-test` uses it, so testing the image costs no
# compilation. The base images are build arguments with the official names as defaults;
# where no registry is reachable, pass local ones (`make container-image` does).

ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

# Node and npm only, for the package's build tools (binaryen's wasm-opt, esbuild).
FROM ${NODE_IMAGE} AS node

FROM ${RUST_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
# The versions scripts/install-tools.sh installs (the CLI matches the crate's pin exactly).
RUN rustup target add wasm32-unknown-unknown \
 && rustup component add rust-src \
 && cargo install wasm-pack --version 0.15.1 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && rm -rf "$CARGO_HOME/registry"
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN cargo build --release --locked -p video-translation-server --bin video-translation-server \
 && scripts/build-pkg.sh \
 && mkdir -p /out \
 && cp target/release/video-translation-server /out/ \
 && cp -r www /out/www \
 && cp -r client-wasm/pkg /out/pkg

# What both runtime images share: the user, the defaults, the health check.
FROM ${RUNTIME_IMAGE} AS runtime-base
# A fixed uid, so volumes and policies (runAsNonRoot) can name it.
RUN groupadd --system --gid 10001 vts \
 && useradd --system --uid 10001 --gid vts --home-dir /nonexistent --shell /usr/sbin/nologin vts
COPY containers/healthcheck.sh /usr/local/bin/vts-healthcheck
# Inside a container the server must listen on every interface; the rest are the
# binary's own defaults, restated where the image moves the files.
ENV VTS_BIND=0.0.0.0:8080 \
    VTS_WWW_DIR=/srv/vts/www \
    VTS_PKG_DIR=/srv/vts/pkg \
    RUST_LOG=info
EXPOSE 8080
# --start-period: the first check may come before the listener is bound.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/vts-healthcheck"]
USER vts:vts
# Exec form: the server is PID 1 and receives SIGTERM itself. It answers held long-polls,
# finishes requests in flight and exits (within docker stop's 10 s).
ENTRYPOINT ["/usr/local/bin/video-translation-server"]

# A server binary, demo page and package built on the host (make container-test).
FROM runtime-base AS prebuilt
ARG SERVER_BIN=target/debug/video-translation-server
COPY ${SERVER_BIN} /usr/local/bin/video-translation-server
COPY www /srv/vts/www
COPY client-wasm/pkg /srv/vts/pkg

# The default target: everything built above, in the build stage.
FROM runtime-base AS runtime
COPY --from=build /out/video-translation-server /usr/local/bin/video-translation-server
COPY --from=build /out/www /srv/vts/www
COPY --from=build /out/pkg /srv/vts/pkg
