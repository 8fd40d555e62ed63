# The Vigil images, two targets of one build:
#
#   default (last stage): a static binary on distroless, non-root, ENTRYPOINT vigil.
#     docker build -t vigil . && docker run --rm vigil image alpine:3.20
#   shell: the same binary on debian-slim with sh, curl and CA certificates and
#     no ENTRYPOINT, for CI systems that run a script inside the job image
#     (GitLab CI `image:`, Azure container jobs, Jenkins docker agents).
#     docker build --target shell -t vigil:shell .
#
# Neither image carries a vulnerability DB: a DB baked in would be stale on
# the day the image is pulled. The first `vigil db update` (upstream feeds,
# VIGIL_FEEDS_MIRROR, or `--from` a Vigil server or OCI artifact) writes it
# to VIGIL_DB; mount or cache that directory between runs (docs/ci.md).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/vigil-scan/vigil/internal/cli.Version=${VERSION}" \
      -o /out/vigil ./cmd/vigil

# The shell variant. It runs as root, as CI job images must: the runner
# mounts the checkout owned by its own user and the script writes reports
# into it. VIGIL_DB points into /var/cache/vigil; set VIGIL_DB to a path in
# the project (GitLab: $CI_PROJECT_DIR/.vigil-db/vigil.db) to cache it.
FROM debian:bookworm-slim AS shell
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/vigil /usr/local/bin/vigil
ENV VIGIL_DB=/var/cache/vigil/db/vigil.db VIGIL_CACHE_DIR=/var/cache/vigil
HEALTHCHECK NONE
CMD ["/bin/sh"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vigil /usr/local/bin/vigil
ENV VIGIL_DB=/home/nonroot/.cache/vigil/db/vigil.db
USER nonroot:nonroot
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["--help"]
