# The Vigil image: a static binary on a distroless base, running as non-root.
# docker build -t vigil . && docker run --rm vigil image alpine:3.20
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/vigil-scan/vigil/internal/cli.Version=${VERSION}" \
      -o /out/vigil ./cmd/vigil

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vigil /usr/local/bin/vigil
ENV VIGIL_DB=/home/nonroot/.cache/vigil/db/vigil.db
USER nonroot:nonroot
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["--help"]
