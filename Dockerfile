# smartappmock: a small static image of the fake Baidu Smart Mini Program message API.
#
#   docker build -t smartappmock --build-arg VERSION=$(git describe --always --dirty) .
#   docker run --rm -p 127.0.0.1:8080:8080 smartappmock
#
#   podman build --format docker -t smartappmock .      (or: buildah bud --format docker …)
#
# --format docker matters for podman and buildah: their default, OCI, has no HEALTHCHECK, so they
# drop it (with a warning) and the container never reports "healthy" (docs/docker.md).
#
# GO_IMAGE is the builder's base: any image with a Go toolchain matching go.mod and a POSIX shell.
# It is fully qualified because podman and buildah do not assume Docker Hub for a short name.
# CI builds this file with podman and passes a local stand-in image built from the machine's own Go
# (scripts/container-test.sh), because base images cannot be pulled there.
#
# One image for every use: the in-memory sandbox by default, and the replicas of a shared sandbox on
# Redis (SMARTAPPMOCK_STORE, docker-compose.scale.yml, deploy/k8s); the Redis client adds 2 MB.
ARG GO_IMAGE=docker.io/library/golang:1.26

FROM ${GO_IMAGE} AS build
ARG VERSION=dev
WORKDIR /src
ENV CGO_ENABLED=0
# The module and build caches are cache mounts (BuildKit, buildah): a rebuild after a source change
# downloads nothing and recompiles only what changed, and neither cache ends up in an image layer.
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/smartappmock ./cmd/smartappmock \
 && /out/smartappmock version \
 && mkdir -p /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && echo 'smartappmock:x:65532:65532:smartappmock:/nonexistent:/sbin/nologin' > /out/etc/passwd \
 && echo 'smartappmock:x:65532:' > /out/etc/group

# The final image holds the static binary, CA certificates (for outbound TLS) and the user
# database that names the non-root user. No shell, no package manager, no curl: the health check
# is the binary itself.
FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="smartappmock" \
      org.opencontainers.image.description="Fake of the Baidu Smart Mini Program send-customer-service-message API" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/etc/ /etc/
COPY --from=build /out/smartappmock /smartappmock
USER 65532:65532
# SMARTAPPMOCK_CONFIG (a mounted file), SMARTAPPMOCK_STORE, SMARTAPPMOCK_ADMIN_TOKEN and
# SMARTAPPMOCK_LOG_FORMAT are read at start; SMARTAPPMOCK_ADDR is also where the health check looks. The bare binary listens on
# 127.0.0.1:8080; inside a container that would be unreachable, so the image listens on every
# interface of the container (publish it with -p 127.0.0.1:8080:8080 to keep it on your machine).
ENV SMARTAPPMOCK_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=3s --retries=3 CMD ["/smartappmock", "healthcheck"]
ENTRYPOINT ["/smartappmock"]
CMD ["serve"]
