# syntax=docker/dockerfile:1
# delibird's Lambda image: linux/arm64, the static `bootstrap` binary as its entrypoint.
#
#   docker buildx build --platform linux/arm64 --provenance=false -t IMAGE .   # scripts/push-image
#
# The build stage runs on the build machine's own platform and cross-compiles with
# scripts/build-arm64 (cargo-zigbuild, zig as C compiler and linker): no emulated compiler. CI
# (scripts/check-infra) runs that same script and runs its output under qemu-aarch64-static
# against a local Lambda Runtime API, and lints this file with hadolint and checkov.

FROM --platform=$BUILDPLATFORM rust:1.95-slim-bookworm AS build
# python3-venv: scripts/build-arm64 installs cargo-zigbuild and zig from PyPI wheels, pinned in
# scripts/build-requirements.txt. Debian's package versions change under a fixed tag, so they
# are not pinned here.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    scripts/build-arm64 --out /bootstrap

# Static image: no libc needed (musl, statically linked), but CA certificates are: reqwest and the
# AWS SDK verify TLS against the system's roots (rustls-platform-verifier, rustls-native-certs),
# and without any the HTTP client refuses to start. distroless/static carries
# /etc/ssl/certs/ca-certificates.crt, tzdata and a nonroot user, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
#checkov:skip=CKV_DOCKER_2:Lambda never runs a HEALTHCHECK; the Runtime API is the health signal (a failed init or invocation is reported to it).
COPY --from=build /bootstrap /bootstrap
USER 65532:65532
ENTRYPOINT ["/bootstrap"]
