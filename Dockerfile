# syntax=docker/dockerfile:1
# Multi-stage build: a static binary in a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/networkfeed ./cmd/networkfeed \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
# The binary embeds templates, static files and time zone data; CA certificates come with the base image.
COPY --from=build /out/networkfeed /networkfeed
COPY --chown=nonroot:nonroot feeds.yaml /etc/networkfeed/feeds.yaml
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
# feeds.yaml: mount your own over /etc/networkfeed/feeds.yaml (reload with SIGHUP).
# /data: the embedded store (bbolt file); mount a volume here, or set NETWORKFEED_STORE=redis://...
ENV NETWORKFEED_CONFIG=/etc/networkfeed/feeds.yaml \
    NETWORKFEED_STORE=/data/networkfeed.db \
    NETWORKFEED_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/networkfeed"]
CMD ["serve"]
